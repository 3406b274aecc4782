using System.Text.Json;
using VectorStoreDb.Embedding.Onnx;

namespace VectorStoreDb.Tests;

/// <summary>
/// A fact that needs a model folder from <c>shared/models</c>: skipped on a developer machine without it, but it runs
/// (and fails) when <c>CI=true</c>, so CI can never silently skip model tests.
/// </summary>
public sealed class ModelFactAttribute : FactAttribute
{
    public ModelFactAttribute(string model, string file = "model.onnx")
    {
        if (TestModels.Path(model, file) is null && !TestModels.IsCi)
        {
            Skip = $"needs shared/models/{model}/{file}, which is not there (set CI=true to make this a failure; {TestData.SharedFolderVariable} says where shared/ is).";
        }
    }
}

internal static class TestModels
{
    public const string Small = "vs-encoder-small";
    public const string MiniLmRandom = "minilm-l6-arch-random";
    public const string MiniLmTokenizer = "minilm-l6-v2";

    private static readonly Lock Gate = new();
    private static readonly Dictionary<string, OnnxTextEncoder> Encoders = [];

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    public static string? Path(string model, string file) => TestData.SharedFile($"models/{model}/{file}");

    public static string Folder(string model) =>
        System.IO.Path.Combine(TestData.SharedFolder ?? throw new InvalidOperationException("shared/ folder not found"), "models", model);

    /// <summary>One encoder per model for the whole test run: loading a session costs more than most tests.</summary>
    public static OnnxTextEncoder Encoder(string model)
    {
        lock (Gate)
        {
            if (!Encoders.TryGetValue(model, out var encoder))
            {
                encoder = OnnxTextEncoder.Load(model, Folder(model), new EncoderOptions { IntraOpThreads = 2 });
                Encoders[model] = encoder;
            }
            return encoder;
        }
    }

    public static IEnumerable<JsonElement> ReadJsonLines(string path)
    {
        foreach (var line in File.ReadLines(path))
        {
            if (line.Length > 0)
            {
                using var doc = JsonDocument.Parse(line);
                yield return doc.RootElement.Clone();
            }
        }
    }
}
