using VectorStoreDb.Index;

namespace VectorStoreDb.Tests.Index;

public class KernelTests
{
    public static TheoryData<int> Lengths => [0, 1, 3, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 100, 127, 128, 129, 255, 256, 384, 385, 1000, 1536];

    private static double ReferenceDot(float[] a, float[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            sum += (double)a[i] * b[i];
        }
        return sum;
    }

    private static double ReferenceSquaredL2(float[] a, float[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double d = (double)a[i] - b[i];
            sum += d * d;
        }
        return sum;
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Dot_matches_scalar_reference(int length)
    {
        var random = new Random(length);
        var a = TestData.RandomVector(random, length);
        var b = TestData.RandomVector(random, length);
        Assert.Equal(ReferenceDot(a, b), VectorKernels.Dot(a, b), 1e-3 * Math.Max(1, length / 64.0));
    }

    [Theory]
    [MemberData(nameof(Lengths))]
    public void SquaredL2_matches_scalar_reference(int length)
    {
        var random = new Random(1000 + length);
        var a = TestData.RandomVector(random, length);
        var b = TestData.RandomVector(random, length);
        Assert.Equal(ReferenceSquaredL2(a, b), VectorKernels.SquaredL2(a, b), 1e-3 * Math.Max(1, length / 64.0));
    }

    [Theory]
    [InlineData(Metric.Cosine)]
    [InlineData(Metric.Dot)]
    [InlineData(Metric.L2)]
    public void Metric_distance_and_score_agree_with_reference(Metric metric)
    {
        var random = new Random(7);
        foreach (int length in new[] { 3, 17, 128, 385 })
        {
            var a = TestData.RandomVector(random, length);
            var b = TestData.RandomVector(random, length);
            metric.Prepare(a);
            metric.Prepare(b);
            float score = metric.ToScore(metric.Distance(a, b));
            double expected = metric switch
            {
                Metric.L2 => Math.Sqrt(ReferenceSquaredL2(a, b)),
                _ => ReferenceDot(a, b),
            };
            Assert.Equal(expected, score, 1e-3);
            if (metric == Metric.Cosine)
            {
                Assert.Equal(1.0, ReferenceDot(a, a), 1e-4);
            }
        }
    }

    [Fact]
    public void Length_mismatch_throws()
    {
        Assert.Throws<ArgumentException>(() => VectorKernels.Dot(new float[3], new float[4]));
        Assert.Throws<ArgumentException>(() => VectorKernels.SquaredL2(new float[3], new float[4]));
    }

    [Fact]
    public void Normalize_leaves_zero_vector_alone_and_unit_otherwise()
    {
        var zero = new float[5];
        VectorKernels.NormalizeInPlace(zero);
        Assert.All(zero, v => Assert.Equal(0f, v));
        var v = new float[] { 3, 4 };
        VectorKernels.NormalizeInPlace(v);
        Assert.Equal(0.6f, v[0], 1e-6);
        Assert.Equal(0.8f, v[1], 1e-6);
    }

    [Fact]
    public void TopKHeap_keeps_the_k_smallest_sorted()
    {
        var random = new Random(3);
        var distances = Enumerable.Range(0, 500).Select(_ => (float)random.NextDouble()).ToArray();
        var storage = new Neighbor[10];
        var heap = new TopKHeap(storage);
        for (int i = 0; i < distances.Length; i++)
        {
            heap.Push(i, distances[i]);
        }
        int n = heap.SortAscending();
        var expected = distances.Select((d, i) => (d, i)).OrderBy(x => x.d).Take(10).Select(x => x.i).ToArray();
        Assert.Equal(10, n);
        Assert.Equal(expected, storage.Select(s => s.Label).ToArray());
    }
}
