using System.Diagnostics;
using VectorStoreDb.Index;

namespace VectorStoreDb.Benchmarks.Index;

/// <summary>Exact-scan throughput of the SIMD kernels and ExactIndex, next to a naive scalar loop over the same data.</summary>
internal static class ExactBenchmark
{
    public static int Run(int count, int dimension, int queries)
    {
        Console.WriteLine($"exact scan: {count:N0} x {dimension} float32 ({(long)count * dimension * 4 / 1e6:F0} MB), {queries} queries, k=10, dot product, {Environment.ProcessorCount} cores, {System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated switch { true => "AVX-512", false => "AVX2/SSE" }}");
        var random = new Random(1);
        var flat = new float[(long)count * dimension];
        for (long i = 0; i < flat.LongLength; i++)
        {
            flat[i] = (float)(random.NextDouble() * 2 - 1);
        }
        var queryVectors = Enumerable.Range(0, queries).Select(_ => Enumerable.Range(0, dimension).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray()).ToArray();
        using var index = new ExactIndex(dimension, Metric.Dot);
        for (int i = 0; i < count; i++)
        {
            index.Upsert(i, flat.AsSpan(i * dimension, dimension));
        }
        var hits = new Neighbor[10];
        double bytesPerQuery = (double)count * dimension * sizeof(float);

        double scalar = Measure("naive scalar loop (1 thread)", queries, q => ScalarScan(flat, queryVectors[q], dimension, hits), bytesPerQuery, count, baseline: 0);
        Measure("VectorKernels.Dot + TopKHeap (1 thread)", queries, q => KernelScan(flat, queryVectors[q], dimension, hits), bytesPerQuery, count, scalar);
        index.MaxDegreeOfParallelism = 1;
        Measure("ExactIndex.Search (1 thread)", queries, q => index.Search(queryVectors[q], hits), bytesPerQuery, count, scalar);
        index.MaxDegreeOfParallelism = Environment.ProcessorCount;
        Measure($"ExactIndex.Search ({Environment.ProcessorCount} threads)", queries, q => index.Search(queryVectors[q], hits), bytesPerQuery, count, scalar);
        return 0;
    }

    private static double Measure(string name, int queries, Action<int> scan, double bytesPerQuery, int count, double baseline)
    {
        scan(0); // warm-up (tiered JIT)
        scan(0);
        var watch = Stopwatch.StartNew();
        for (int q = 0; q < queries; q++)
        {
            scan(q);
        }
        double seconds = watch.Elapsed.TotalSeconds;
        double vectorsPerSecond = queries * (double)count / seconds;
        string ratio = baseline > 0 ? $"{vectorsPerSecond / baseline,6:F1}x scalar" : "  baseline";
        Console.WriteLine($"  {name,-42} {vectorsPerSecond / 1e6,8:F1} M vectors/s {queries * bytesPerQuery / seconds / 1e9,7:F2} GB/s {seconds * 1000 / queries,8:F2} ms/query  {ratio}");
        return vectorsPerSecond;
    }

    private static void ScalarScan(float[] flat, float[] query, int dimension, Neighbor[] hits)
    {
        var heap = new TopKHeap(hits);
        int count = flat.Length / dimension;
        for (int v = 0; v < count; v++)
        {
            float sum = 0;
            int offset = v * dimension;
            for (int i = 0; i < dimension; i++)
            {
                sum += flat[offset + i] * query[i];
            }
            heap.Push(v, -sum);
        }
        heap.SortAscending();
    }

    private static void KernelScan(float[] flat, float[] query, int dimension, Neighbor[] hits)
    {
        var heap = new TopKHeap(hits);
        int count = flat.Length / dimension;
        for (int v = 0; v < count; v++)
        {
            float d = -VectorKernels.Dot(flat.AsSpan(v * dimension, dimension), query);
            if (d < heap.Threshold)
            {
                heap.Push(v, d);
            }
        }
        heap.SortAscending();
    }
}
