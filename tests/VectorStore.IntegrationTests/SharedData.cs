namespace VectorStoreDb.IntegrationTests;

/// <summary>The <c>shared</c> folder beside the repository, where the models and data sets some tests need live.</summary>
internal static class SharedData
{
    /// <summary>Overrides where shared/ is; pointing it at a missing folder shows which tests skip and why.</summary>
    public const string FolderVariable = "VECTORSTORE_SHARED";

    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>The folder named by <c>VECTORSTORE_SHARED</c>, else the first <c>shared</c> found walking up from the test binaries.</summary>
    public static string? Folder
    {
        get
        {
            if (Environment.GetEnvironmentVariable(FolderVariable) is { Length: > 0 } configured)
            {
                return Directory.Exists(configured) ? configured : null;
            }
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "shared");
                if (Directory.Exists(Path.Combine(candidate, "models")) || Directory.Exists(Path.Combine(candidate, "data")))
                {
                    return candidate;
                }
            }
            return null;
        }
    }

    /// <summary>A model folder holding <c>model.onnx</c>, or null.</summary>
    public static string? ModelFolder(string model) =>
        Folder is { } shared && Path.Combine(shared, "models", model) is var folder && File.Exists(Path.Combine(folder, "model.onnx")) ? folder : null;
}
