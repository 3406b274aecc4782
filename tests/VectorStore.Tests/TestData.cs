namespace VectorStoreDb.Tests;

/// <summary>Deterministic test inputs and locations of the shared models and data sets.</summary>
internal static class TestData
{
    public static float[] RandomVector(Random random, int dimension)
    {
        var v = new float[dimension];
        for (int i = 0; i < v.Length; i++)
        {
            v[i] = (float)(random.NextDouble() * 2 - 1);
        }
        return v;
    }

    /// <summary>Overrides where the shared models and data sets are; pointing it at a missing folder shows what skips.</summary>
    public const string SharedFolderVariable = "VECTORSTORE_SHARED";

    /// <summary>
    /// The <c>shared</c> folder beside the repository (models and benchmark data), found by walking up, or the folder
    /// named by <c>VECTORSTORE_SHARED</c>; null when there is none.
    /// </summary>
    public static string? SharedFolder
    {
        get
        {
            if (Environment.GetEnvironmentVariable(SharedFolderVariable) is { Length: > 0 } configured)
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

    /// <summary>A file under the shared folder (path relative to it, '/'-separated), or null when it is not there.</summary>
    public static string? SharedFile(string relativePath) =>
        SharedFolder is { } shared && Path.Combine(shared, relativePath) is var path && File.Exists(path) ? path : null;

    /// <summary>A fresh folder under the temp directory, deleted when disposed.</summary>
    public sealed class TempFolder : IDisposable
    {
        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "vectorstore-tests", Guid.NewGuid().ToString("N"));

        public TempFolder() => Directory.CreateDirectory(Path);

        public void Dispose()
        {
            try
            {
                Directory.Delete(Path, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
