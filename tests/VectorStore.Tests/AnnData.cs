namespace VectorStoreDb.Tests;

/// <summary>Reads the texmex <c>.fvecs</c>/<c>.ivecs</c> files of <c>shared/data/ann</c>.</summary>
internal static class AnnData
{
    /// <summary>The siftsmall base vectors, relative to the shared folder (what <see cref="DataFactAttribute"/> checks).</summary>
    public const string SiftSmallFile = "data/ann/siftsmall/siftsmall_base.fvecs";

    /// <summary>
    /// The siftsmall folder. Tests that read it are <c>[DataFact(SiftSmallFile)]</c>, so a missing folder reaches here
    /// only under <c>CI=true</c>, where it must fail.
    /// </summary>
    public static string SiftSmall => TestData.SharedFile(SiftSmallFile) is { } file
        ? Path.GetDirectoryName(file)!
        : throw new InvalidOperationException($"shared/{SiftSmallFile} is missing, and CI=true requires it.");

    public static float[][] ReadFvecs(string path) => ReadRows(path, static (reader, d) =>
    {
        var row = new float[d];
        for (int i = 0; i < d; i++)
        {
            row[i] = reader.ReadSingle();
        }
        return row;
    });

    public static int[][] ReadIvecs(string path) => ReadRows(path, static (reader, d) =>
    {
        var row = new int[d];
        for (int i = 0; i < d; i++)
        {
            row[i] = reader.ReadInt32();
        }
        return row;
    });

    private static T[][] ReadRows<T>(string path, Func<BinaryReader, int, T[]> readRow)
    {
        using var reader = new BinaryReader(new BufferedStream(File.OpenRead(path), 1 << 16));
        var rows = new List<T[]>();
        while (reader.BaseStream.Position < reader.BaseStream.Length)
        {
            rows.Add(readRow(reader, reader.ReadInt32()));
        }
        return [.. rows];
    }

    /// <summary>Mean fraction of each query's true top-k that the found top-k contains.</summary>
    public static double Recall(IReadOnlyList<int[]> found, IReadOnlyList<int[]> truth, int k)
    {
        double sum = 0;
        for (int q = 0; q < found.Count; q++)
        {
            var expected = truth[q].Take(k).ToHashSet();
            sum += found[q].Take(k).Count(expected.Contains) / (double)Math.Min(k, expected.Count);
        }
        return sum / found.Count;
    }
}
