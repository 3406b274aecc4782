namespace VectorStoreDb.IntegrationTests;

/// <summary>The real server with vs-encoder-small configured as encoder <c>small</c>.</summary>
public sealed class OnnxServerFixture : ServerFixture
{
    public const string Model = "vs-encoder-small";

    public static string? ModelFolder(string model) => SharedData.ModelFolder(model);

    protected override IEnumerable<string> ExtraArguments =>
        ModelFolder(Model) is string folder ? [$"--VectorStore:Encoders:small:Path={folder}", "--VectorStore:Encoders:small:IntraOpThreads=2"] : [];
}
