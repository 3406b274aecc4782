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

    /// <summary>The <c>shared</c> folder beside the repository (models and benchmark data), found by walking up.</summary>
    public static string? SharedFolder
    {
        get
        {
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
