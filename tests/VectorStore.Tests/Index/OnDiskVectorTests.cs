using VectorStoreDb.Index;
using VectorStoreDb.Index.Hnsw;
using VectorStoreDb.Index.Quantization;
using Xunit.Abstractions;

namespace VectorStoreDb.Tests.Index;

/// <summary>
/// <c>onDisk</c>: full vectors in memory-mapped, already-unlinked files instead of RAM, with the same answers as
/// in memory, and an int8 graph whose RAM (codes + graph) is at most 0.35× a float graph's.
/// </summary>
public sealed class OnDiskVectorTests(ITestOutputHelper output)
{
    private static string[] MappedDeletedFiles(string folder) =>
        [.. File.ReadAllLines("/proc/self/maps").Where(line => line.Contains(folder, StringComparison.Ordinal) && line.EndsWith("(deleted)", StringComparison.Ordinal))];

    [Fact]
    public void Mapped_block_holds_vectors_in_unlinked_files_not_in_native_memory()
    {
        using var folder = new TestData.TempFolder();
        {
            var random = new Random(1);
            var vectors = Enumerable.Range(0, VectorBlock.ChunkSize + 10).Select(_ => TestData.RandomVector(random, 16)).ToArray();
            using (var block = new VectorBlock(16, onDisk: true, folder: folder.Path))
            {
                for (int i = 0; i < vectors.Length; i++)
                {
                    block.Set(i, vectors[i]);
                }
                Assert.True(block.OnDisk);
                Assert.Equal(0, block.MemoryBytes);
                Assert.True(block.MappedBytes >= (long)vectors.Length * 16 * sizeof(float));
                for (int i = 0; i < vectors.Length; i += 97)
                {
                    Assert.Equal(vectors[i], block.Get(i).ToArray());
                }
                // Mapped, and already without a name: nothing to leak if the process dies now.
                Assert.Empty(Directory.EnumerateFileSystemEntries(folder.Path));
                if (OperatingSystem.IsLinux())
                {
                    Assert.True(MappedDeletedFiles(folder.Path).Length >= 2, "expected a mapping per chunk of deleted files under the folder");
                }
            }
            if (OperatingSystem.IsLinux())
            {
                Assert.Empty(MappedDeletedFiles(folder.Path)); // unmapped on dispose
            }
        }
    }

    [Fact]
    public void Stale_chunk_files_are_swept()
    {
        using var folder = new TestData.TempFolder();
        File.WriteAllText(Path.Combine(folder.Path, "left-by-a-kill.vectors"), "x");
        File.WriteAllText(Path.Combine(folder.Path, "keep.txt"), "x");
        MappedVectorFiles.SweepStaleFiles(folder.Path);
        Assert.Equal(["keep.txt"], Directory.EnumerateFiles(folder.Path).Select(Path.GetFileName));
    }

    [Theory]
    [InlineData("hnsw")]
    [InlineData("exact")]
    public void On_disk_index_answers_like_the_in_memory_one_and_loads_back_on_disk(string kind)
    {
        const int Dimension = 32;
        var random = new Random(7);
        var vectors = Enumerable.Range(0, 3_000).Select(_ => TestData.RandomVector(random, Dimension)).ToArray();
        var int8 = new QuantizationSettings(QuantizationKind.Int8);
        IVectorIndex Make(bool onDisk) => kind == "hnsw"
            ? new HnswIndex(Dimension, Metric.L2, 8, 40, seed: 5, quantization: int8, onDisk: onDisk)
            : new ExactIndex(Dimension, Metric.L2, int8, onDisk);
        using var memory = Make(false);
        using var disk = Make(true);
        // One writer in the same order: the same levels, links and codes on both.
        for (int i = 0; i < vectors.Length; i++)
        {
            memory.Upsert(i, vectors[i]);
            disk.Upsert(i, vectors[i]);
        }
        Assert.True(disk.MemoryBytes < memory.MemoryBytes / 2);
        using var stream = new MemoryStream();
        disk.Save(stream);
        stream.Position = 0;
        using var loaded = kind == "hnsw" ? (IVectorIndex)HnswIndex.Load(stream, onDisk: true) : ExactIndex.Load(stream, onDisk: true);
        Assert.True(loaded is HnswIndex { OnDisk: true } or ExactIndex { OnDisk: true });
        for (int q = 0; q < 20; q++)
        {
            var query = TestData.RandomVector(random, Dimension);
            var expected = new Neighbor[10];
            var actual = new Neighbor[10];
            var reloaded = new Neighbor[10];
            memory.Search(query, expected, new SearchParameters(Ef: 50));
            disk.Search(query, actual, new SearchParameters(Ef: 50));
            loaded.Search(query, reloaded, new SearchParameters(Ef: 50));
            Assert.Equal(expected, actual);
            Assert.Equal(expected, reloaded);
        }
    }

    /// <summary>The memory target: an int8 graph with its full vectors on disk keeps ≤ 0.35× of a float graph's RAM (384 dimensions, M 16).</summary>
    [Fact]
    public void Int8_graph_with_vectors_on_disk_keeps_at_most_035_of_the_float_graphs_memory()
    {
        const int Dimension = 384;
        const int Count = 2 * VectorBlock.ChunkSize;
        var random = new Random(3);
        var flat = new float[Count * Dimension];
        for (int i = 0; i < flat.Length; i++)
        {
            flat[i] = (float)(random.NextDouble() * 2 - 1);
        }
        var labels = Enumerable.Range(0, Count).ToArray();
        using var floats = new HnswIndex(Dimension, Metric.L2, 16, 16, Count, seed: 1);
        using var int8 = new HnswIndex(Dimension, Metric.L2, 16, 16, Count, seed: 1, quantization: new QuantizationSettings(QuantizationKind.Int8), onDisk: true);
        floats.UpsertBatch(labels, flat);
        int8.UpsertBatch(labels, flat);
        double ratio = (double)int8.MemoryBytes / floats.MemoryBytes;
        output.WriteLine($"{Count} x {Dimension}: float graph {floats.MemoryBytes:N0} B in RAM; int8 + vectors on disk {int8.MemoryBytes:N0} B in RAM " +
            $"(codes {int8.CodeMemoryBytes:N0} B, mapped vectors {int8.MappedVectorBytes:N0} B): {ratio:F3}x");
        Assert.Equal(0, int8.VectorMemoryBytes);
        Assert.True(int8.MappedVectorBytes >= (long)Count * Dimension * sizeof(float));
        Assert.True(ratio <= 0.35, $"int8 graph on disk holds {ratio:F3}x the float graph's memory");
    }
}
