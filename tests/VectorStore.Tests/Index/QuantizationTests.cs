using VectorStoreDb.Index;
using VectorStoreDb.Index.Quantization;

namespace VectorStoreDb.Tests.Index;

public class QuantizationTests
{
    public static TheoryData<int> Lengths => [0, 1, 3, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 128, 129, 384, 385, 1000];

    /// <summary>Every int8 path this machine can run (the scalar fallback always).</summary>
    public static IEnumerable<Int8Isa> SupportedIsas => Enum.GetValues<Int8Isa>().Where(Int8Kernels.IsSupported);

    private static byte[] RandomCodes(Random random, int length) => [.. Enumerable.Range(0, length).Select(_ => (byte)random.Next(256))];

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Int8_dot_matches_the_scalar_reference_on_every_supported_path(int length)
    {
        var random = new Random(length);
        var codes = RandomCodes(random, length);
        var query = Enumerable.Range(0, length).Select(_ => (sbyte)random.Next(-127, 128)).ToArray();
        long reference = 0;
        for (int i = 0; i < length; i++)
        {
            reference += codes[i] * query[i];
        }
        // Extremes too: all 255 × ±127 is where 16-bit intermediate sums would saturate.
        var extremeCodes = Enumerable.Repeat((byte)255, length).ToArray();
        var extremeQuery = Enumerable.Range(0, length).Select(i => (sbyte)(i % 3 == 0 ? -127 : 127)).ToArray();
        long extremeReference = 0;
        for (int i = 0; i < length; i++)
        {
            extremeReference += 255 * extremeQuery[i];
        }
        Assert.Contains(Int8Isa.Scalar, SupportedIsas);
        foreach (var isa in SupportedIsas)
        {
            Assert.Equal(reference, Int8Kernels.DotU8S8(codes, query, isa));
            Assert.Equal(extremeReference, Int8Kernels.DotU8S8(extremeCodes, extremeQuery, isa));
        }
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Int8_squared_L2_matches_the_scalar_reference_on_every_supported_path(int length)
    {
        var random = new Random(500 + length);
        var a = RandomCodes(random, length);
        var b = RandomCodes(random, length);
        long reference = 0;
        for (int i = 0; i < length; i++)
        {
            reference += (a[i] - b[i]) * (a[i] - b[i]);
        }
        var zeros = new byte[length];
        var full = Enumerable.Repeat((byte)255, length).ToArray();
        foreach (var isa in SupportedIsas)
        {
            Assert.Equal(reference, Int8Kernels.SquaredL2U8(a, b, isa));
            Assert.Equal(255L * 255 * length, Int8Kernels.SquaredL2U8(zeros, full, isa));
        }
    }

    [Fact]
    public void The_machine_paths_are_reported_and_an_unsupported_path_is_refused()
    {
        Assert.True(Int8Kernels.IsSupported(Int8Kernels.Best));
        if (System.Runtime.Intrinsics.X86.AvxVnni.IsSupported)
        {
            Assert.Equal(Int8Isa.AvxVnni, Int8Kernels.Best);
        }
        foreach (var isa in Enum.GetValues<Int8Isa>().Where(i => !Int8Kernels.IsSupported(i)))
        {
            Assert.Throws<PlatformNotSupportedException>(() => Int8Kernels.DotU8S8(new byte[4], new sbyte[4], isa));
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(12)]
    public void Hamming_matches_a_bit_by_bit_reference(int words)
    {
        var random = new Random(words);
        var a = Enumerable.Range(0, words).Select(_ => (ulong)random.NextInt64() ^ ((ulong)random.Next() << 40)).ToArray();
        var b = Enumerable.Range(0, words).Select(_ => (ulong)random.NextInt64()).ToArray();
        int reference = 0;
        for (int bit = 0; bit < words * 64; bit++)
        {
            reference += (int)(((a[bit >> 6] >> (bit & 63)) ^ (b[bit >> 6] >> (bit & 63))) & 1);
        }
        Assert.Equal(reference, BinaryKernels.Hamming(a, b));
        Assert.Equal(0, BinaryKernels.Hamming(a, a));
        Assert.Equal(words * 64, BinaryKernels.Hamming(a, [.. a.Select(x => ~x)]));
    }

    [Fact]
    public void Scalar_quantizer_round_trips_within_half_a_step_clamps_outside_and_its_query_distances_match_the_decoded_vectors()
    {
        var random = new Random(2);
        const int dimension = 40;
        var rows = new float[500 * dimension];
        for (int i = 0; i < rows.Length; i++)
        {
            rows[i] = (float)(random.NextDouble() * (1 + i % dimension)) - 0.5f * (i % 7); // every dimension its own range
        }
        var quantizer = ScalarQuantizer.Fit(rows, dimension);
        var code = new byte[dimension];
        var decoded = new float[dimension];
        for (int row = 0; row < 500; row++)
        {
            var v = rows.AsSpan(row * dimension, dimension);
            Assert.Equal(0, quantizer.Encode(v, code));
            quantizer.Decode(code, decoded);
            for (int i = 0; i < dimension; i++)
            {
                Assert.InRange(decoded[i] - v[i], -quantizer.Scales[i] * 0.5001f, quantizer.Scales[i] * 0.5001f);
            }
        }
        var outside = rows.AsSpan(0, dimension).ToArray();
        outside[3] = 1e6f;
        outside[7] = -1e6f;
        Assert.Equal(2, quantizer.Encode(outside, code));
        Assert.Equal(255, code[3]);
        Assert.Equal(0, code[7]);

        foreach (var metric in new[] { Metric.Dot, Metric.L2 })
        {
            var query = TestData.RandomVector(random, dimension);
            var folded = new sbyte[dimension];
            quantizer.PrepareQuery(query, metric, folded, out float factor, out float constant);
            for (int row = 0; row < 50; row++)
            {
                quantizer.Encode(rows.AsSpan(row * dimension, dimension), code);
                quantizer.Decode(code, decoded);
                float exact = metric.Distance(query, decoded);
                float approximate = factor * Int8Kernels.DotU8S8(code, folded) + constant + (metric == Metric.L2 ? quantizer.CodeNorm(code) : 0);
                // The query is folded into 8 bits: an error of a few percent of the terms' magnitude is expected
                // (a distance near zero can be off by more than a few percent of itself); a wrong term would be far off.
                double magnitude = 0;
                for (int i = 0; i < dimension; i++)
                {
                    magnitude += Math.Abs(decoded[i] * query[i]) + (metric == Metric.L2 ? decoded[i] * decoded[i] + query[i] * query[i] : 0);
                }
                Assert.Equal(exact, approximate, 0.02 * magnitude);
            }
        }

        using var stream = new MemoryStream();
        quantizer.Write(stream);
        stream.Position = 0;
        var read = ScalarQuantizer.Read(stream);
        Assert.Equal(quantizer.Offsets, read.Offsets);
        Assert.Equal(quantizer.Scales, read.Scales);
    }

    private static (ExactIndex Exact, ExactIndex Quantized, float[][] Vectors) Build(int count, int dimension, Metric metric, QuantizationSettings settings, int seed, bool gaussian = false)
    {
        var random = new Random(seed);
        var exact = new ExactIndex(dimension, metric);
        var quantized = new ExactIndex(dimension, metric, settings);
        var vectors = new float[count][];
        for (int i = 0; i < count; i++)
        {
            vectors[i] = gaussian ? Gaussian(random, dimension) : TestData.RandomVector(random, dimension);
            metric.Prepare(vectors[i]);
            exact.Upsert(i, vectors[i]);
            quantized.Upsert(i, vectors[i]);
        }
        return (exact, quantized, vectors);
    }

    private static float[] Gaussian(Random random, int dimension) =>
        [.. Enumerable.Range(0, dimension).Select(_ => (float)(Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble())))];

    private static double Recall(ExactIndex exact, ExactIndex quantized, IEnumerable<float[]> queries, int k, ILabelFilter? filter = null)
    {
        var truth = new Neighbor[k];
        var found = new Neighbor[k];
        double hits = 0;
        int total = 0;
        foreach (var query in queries)
        {
            int n = exact.Search(query, truth, default, filter);
            int m = quantized.Search(query, found, default, filter);
            Assert.Equal(n, m);
            hits += found.Take(m).Select(f => f.Label).Intersect(truth.Take(n).Select(t => t.Label)).Count();
            total += n;
        }
        return hits / total;
    }

    [Theory]
    [InlineData(Metric.Dot)]
    [InlineData(Metric.L2)]
    [InlineData(Metric.Cosine)]
    public void Int8_scan_with_rescoring_finds_the_exact_neighbours_on_every_kernel_path(Metric metric)
    {
        var (exact, quantized, _) = Build(6_000, 48, metric, new QuantizationSettings(QuantizationKind.Int8), seed: (int)metric);
        using var disposeExact = exact;
        using var disposeQuantized = quantized;
        var random = new Random(77);
        var queries = Enumerable.Range(0, 30).Select(_ => { var q = TestData.RandomVector(random, 48); metric.Prepare(q); return q; }).ToArray();
        var before = Int8Kernels.Active;
        try
        {
            int[][]? previous = null;
            foreach (var isa in SupportedIsas)
            {
                Int8Kernels.Active = isa;
                double recall = Recall(exact, quantized, queries, 10);
                Assert.True(recall >= 0.99, $"{isa}: recall@10 = {recall:F3}");
                // Integer kernels: every path returns exactly the same candidates, so the same results.
                var labels = queries.Select(q => { var hits = new Neighbor[10]; quantized.Search(q, hits); return hits.Select(h => h.Label).ToArray(); }).ToArray();
                if (previous is not null)
                {
                    Assert.Equal(previous, labels);
                }
                previous = labels;
            }
        }
        finally
        {
            Int8Kernels.Active = before;
        }
        // The codes are a quarter of the float vectors (plus the live bitmap).
        Assert.InRange(quantized.CodeMemoryBytes, 1, exact.MemoryBytes / 3);
    }

    [Fact]
    public void Int8_without_rescoring_returns_approximate_distances_and_filters_and_tombstones_still_hold()
    {
        var (exact, quantized, vectors) = Build(4_000, 32, Metric.L2, new QuantizationSettings(QuantizationKind.Int8, Rescore: false), seed: 8);
        using var disposeExact = exact;
        using var disposeQuantized = quantized;
        for (int i = 0; i < vectors.Length; i += 4)
        {
            exact.Remove(i);
            quantized.Remove(i);
        }
        var filter = new ModuloFilter(3);
        var hits = new Neighbor[10];
        int n = quantized.Search(vectors[6], hits, default, filter);
        Assert.Equal(10, n);
        Assert.All(hits, h => Assert.True(h.Label % 3 == 0 && h.Label % 4 != 0));
        Assert.Equal(6, hits[0].Label); // its own code is the nearest
        Assert.InRange(hits[0].Distance, -0.05f, 0.05f); // approximate, not rescored: near zero, not exactly zero
        var random = new Random(3);
        var queries = Enumerable.Range(0, 20).Select(_ => TestData.RandomVector(random, 32)).ToArray();
        Assert.True(Recall(exact, quantized, queries, 10, filter) >= 0.8);
    }

    [Fact]
    public void Binary_scan_with_rescoring_reaches_high_recall_on_embedding_like_vectors()
    {
        // Embeddings have a low intrinsic dimension: points on a 16-dimensional subspace of 256 dimensions plus
        // noise (uniform noise has no meaningful neighbours, for any method but the exact one).
        const int dimension = 256, latent = 16;
        var random = new Random(4);
        var basis = Enumerable.Range(0, latent).Select(_ => Gaussian(random, dimension)).ToArray();
        float[] Sample()
        {
            var z = Gaussian(random, latent);
            var v = Gaussian(random, dimension);
            for (int d = 0; d < dimension; d++)
            {
                v[d] *= 0.1f;
                for (int j = 0; j < latent; j++)
                {
                    v[d] += z[j] * basis[j][d];
                }
            }
            Metric.Cosine.Prepare(v);
            return v;
        }
        using var exact = new ExactIndex(dimension, Metric.Cosine);
        using var quantized = new ExactIndex(dimension, Metric.Cosine, new QuantizationSettings(QuantizationKind.Binary));
        for (int i = 0; i < 5_000; i++)
        {
            var v = Sample();
            exact.Upsert(i, v);
            quantized.Upsert(i, v);
        }
        var queries = Enumerable.Range(0, 30).Select(_ => Sample()).ToArray();
        double recall = Recall(exact, quantized, queries, 10);
        Assert.True(recall >= 0.9, $"binary recall@10 = {recall:F3}");
        Assert.InRange(quantized.CodeMemoryBytes * 30, 1, exact.MemoryBytes); // 32x smaller than the floats
    }

    [Fact]
    public void Quantized_index_refits_as_it_grows_and_round_trips_codes_and_parameters()
    {
        var random = new Random(12);
        using var index = new ExactIndex(16, Metric.L2, new QuantizationSettings(QuantizationKind.Int8, Oversampling: 2));
        for (int i = 0; i < 100; i++)
        {
            index.Upsert(i, TestData.RandomVector(random, 16));
        }
        // Vectors far outside the fitted range: without a refit they would all clamp to the same codes.
        for (int i = 100; i < 400; i++)
        {
            var v = TestData.RandomVector(random, 16);
            for (int d = 0; d < 16; d++)
            {
                v[d] *= 50;
            }
            index.Upsert(i, v);
        }
        var query = new float[16];
        Assert.True(index.TryGetVector(250, query));
        var hits = new Neighbor[5];
        index.Search(query, hits);
        Assert.Equal(250, hits[0].Label);
        Assert.Equal(0f, hits[0].Distance); // rescored by the full vector

        using var stream = new MemoryStream();
        index.Save(stream);
        stream.Position = 0;
        using var loaded = ExactIndex.Load(stream);
        Assert.Equal(index.Quantization, loaded.Quantization);
        Assert.Equal(index.CodeMemoryBytes, loaded.CodeMemoryBytes);
        for (int q = 0; q < 10; q++)
        {
            var probe = TestData.RandomVector(random, 16);
            var a = new Neighbor[10];
            var b = new Neighbor[10];
            index.Search(probe, a);
            loaded.Search(probe, b);
            Assert.Equal(a, b);
        }
    }

    [Fact]
    public void Version_1_exact_index_files_still_load()
    {
        // A version-1 file: header, live bitmap, vectors (what earlier releases wrote).
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(0x58455356);
            writer.Write(1);
            writer.Write(2); // dimension
            writer.Write((int)Metric.L2);
            writer.Write(3); // high water
            writer.Write(0b101UL); // labels 0 and 2 live
            writer.Write(1f); writer.Write(2f);
            writer.Write(3f); writer.Write(4f);
        }
        stream.Position = 0;
        using var index = ExactIndex.Load(stream);
        Assert.Equal(2, index.Count);
        Assert.Equal(QuantizationKind.None, index.Quantization.Kind);
        var hits = new Neighbor[2];
        Assert.Equal(2, index.Search([3f, 4f], hits));
        Assert.Equal(2, hits[0].Label);
        Assert.Equal(0, hits[1].Label);
    }

    [Theory]
    [InlineData(QuantizationKind.None, 1)]
    [InlineData(QuantizationKind.Int8, 2)]
    [InlineData(QuantizationKind.Binary, 2)]
    public void Only_a_quantized_exact_index_writes_file_version_2(QuantizationKind kind, int version)
    {
        using var index = new ExactIndex(4, Metric.L2, new QuantizationSettings(kind));
        index.Upsert(0, [1f, 2f, 3f, 4f]);
        using var stream = new MemoryStream();
        index.Save(stream);
        Assert.Equal(version, BitConverter.ToInt32(stream.GetBuffer(), 4));
        // Version 1 is the old layout exactly: header (20 bytes), one bitmap word, one vector.
        if (version == 1)
        {
            Assert.Equal(20 + 8 + 16, stream.Length);
        }
        stream.Position = 0;
        using var loaded = ExactIndex.Load(stream);
        Assert.Equal(kind, loaded.Quantization.Kind);
    }

    [Fact]
    public void Both_indexes_write_the_same_quantization_block_byte_for_byte()
    {
        // The layout both index files share (IndexFileFormat): kind int32, rescore byte, oversampling float32,
        // fitted byte, then the fitted parameters (dimension int32, offsets, scales). HNSW adds its refit counters.
        static void AssertBlock(byte[] file, int at, int dimension)
        {
            Assert.Equal((int)QuantizationKind.Int8, BitConverter.ToInt32(file, at));
            Assert.Equal(0, file[at + 4]); // rescore off
            Assert.Equal(2.5f, BitConverter.ToSingle(file, at + 5));
            Assert.Equal(1, file[at + 9]); // fitted
            Assert.Equal(dimension, BitConverter.ToInt32(file, at + 10));
        }
        var random = new Random(5);
        var settings = new QuantizationSettings(QuantizationKind.Int8, Rescore: false, Oversampling: 2.5f);
        var vectors = Enumerable.Range(0, 64).Select(_ => TestData.RandomVector(random, 4)).ToArray();

        using var exact = new ExactIndex(4, Metric.L2, settings);
        for (int i = 0; i < vectors.Length; i++)
        {
            exact.Upsert(i, vectors[i]);
        }
        exact.Refit(); // both fitted on the same 64 vectors, so their parameters are the same bytes
        using var exactStream = new MemoryStream();
        exact.Save(exactStream);
        var exactFile = exactStream.ToArray();
        AssertBlock(exactFile, 20, 4); // after the 20-byte exact header
        // Parameters, then straight to the live bitmap (8 bytes for 64 labels) and the 64 vectors.
        Assert.Equal(20 + 10 + 4 + 4 * 8 + 8 + 64 * 16, exactFile.Length);

        using var graph = new VectorStoreDb.Index.Hnsw.HnswIndex(4, Metric.L2, m: 4, efConstruction: 16, initialCapacity: 64, seed: 1, quantization: settings);
        graph.UpsertBatch(Enumerable.Range(0, vectors.Length).ToArray(), vectors.SelectMany(v => v).ToArray());
        graph.Refit();
        using var graphStream = new MemoryStream();
        graph.Save(graphStream);
        var graphFile = graphStream.ToArray();
        AssertBlock(graphFile, 48, 4); // after the 48-byte HNSW header
        Assert.Equal(exactFile.AsSpan(20, 10 + 4 + 4 * 8).ToArray(), graphFile.AsSpan(48, 10 + 4 + 4 * 8).ToArray()); // same fit, same bytes
        Assert.Equal(64, BitConverter.ToInt32(graphFile, 48 + 10 + 4 + 4 * 8)); // count at fit, then clamped since fit
    }

    [Fact]
    public void Quantized_batch_equals_one_query_at_a_time()
    {
        var (exact, quantized, _) = Build(3_000, 24, Metric.Dot, new QuantizationSettings(QuantizationKind.Int8), seed: 31);
        using var disposeExact = exact;
        using var disposeQuantized = quantized;
        var random = new Random(6);
        var queries = Enumerable.Range(0, 20 * 24).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var results = new Neighbor[20 * 10];
        var counts = new int[20];
        quantized.SearchBatch(queries, 10, results, counts);
        var single = new Neighbor[10];
        for (int q = 0; q < 20; q++)
        {
            Assert.Equal(quantized.Search(queries.AsSpan(q * 24, 24), single), counts[q]);
            Assert.Equal(single, results.AsSpan(q * 10, 10).ToArray());
        }
    }

    [DataFact(AnnData.SiftSmallFile)]
    public void SiftSmall_int8_scan_with_rescoring_recall_at_10_is_at_least_099()
    {
        string folder = AnnData.SiftSmall;
        var vectors = AnnData.ReadFvecs(Path.Combine(folder, "siftsmall_base.fvecs"));
        var queries = AnnData.ReadFvecs(Path.Combine(folder, "siftsmall_query.fvecs"));
        var truth = AnnData.ReadIvecs(Path.Combine(folder, "siftsmall_groundtruth.ivecs"));
        using var index = new ExactIndex(vectors[0].Length, Metric.L2, new QuantizationSettings(QuantizationKind.Int8));
        for (int i = 0; i < vectors.Length; i++)
        {
            index.Upsert(i, vectors[i]);
        }
        var found = queries.Select(q => { var hits = new Neighbor[10]; int n = index.Search(q, hits); return hits.Take(n).Select(h => h.Label).ToArray(); }).ToArray();
        double recall = AnnData.Recall(found, truth, 10);
        Assert.True(recall >= 0.99, $"recall@10 = {recall:F4}");
    }

    private sealed class ModuloFilter(int modulus) : ILabelFilter
    {
        public bool Allows(int label) => label % modulus == 0;
    }
}
