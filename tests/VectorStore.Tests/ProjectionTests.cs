using VectorStoreDb.Engine.Projection;
using VectorStoreDb.Index;

namespace VectorStoreDb.Tests;

public class ProjectionTests
{
    /// <summary>Vectors with most variance in a few directions, like real embeddings.</summary>
    private static List<float[]> Sample(int count, int dimension, int seed)
    {
        var random = new Random(seed);
        var basis = Enumerable.Range(0, 8).Select(_ => TestData.RandomVector(random, dimension)).ToArray();
        var list = new List<float[]>();
        for (int n = 0; n < count; n++)
        {
            var v = new float[dimension];
            for (int b = 0; b < basis.Length; b++)
            {
                float w = (float)(random.NextDouble() * 2 - 1) * (8 - b);
                for (int i = 0; i < dimension; i++)
                {
                    v[i] += w * basis[b][i];
                }
            }
            for (int i = 0; i < dimension; i++)
            {
                v[i] += (float)(random.NextDouble() - 0.5) * 0.05f + 0.3f;
            }
            list.Add(v);
        }
        return list;
    }

    [Theory]
    [InlineData("none")]
    [InlineData("random")]
    [InlineData("pca")]
    public void Serialised_projection_projects_identically(string kind)
    {
        var sample = Sample(200, 48, 1);
        var projection = ProjectionSerializer.Create(kind, 48, 24, sample, seed: 7);
        using var stream = new MemoryStream();
        projection.Write(stream);
        stream.Position = 0;
        var restored = ProjectionSerializer.Read(stream);
        Assert.Equal(projection.Kind, restored.Kind);
        Assert.Equal(projection.OutputDimension, restored.OutputDimension);
        foreach (var v in sample.Take(20))
        {
            var a = new float[projection.OutputDimension];
            var b = new float[restored.OutputDimension];
            projection.Project(v, a);
            restored.Project(v, b);
            Assert.Equal(a, b);
        }
    }

    [Fact]
    public void Random_projection_is_seeded_and_roughly_preserves_inner_products()
    {
        var random = new Random(3);
        var a = RandomProjection.Create(256, 128, 42);
        var b = RandomProjection.Create(256, 128, 42);
        var x = TestData.RandomVector(random, 256);
        var y = TestData.RandomVector(random, 256);
        var px = new float[128];
        var py = new float[128];
        var px2 = new float[128];
        a.Project(x, px);
        b.Project(x, px2);
        Assert.Equal(px, px2);
        a.Project(y, py);
        // JL: squared norms are preserved within a few tens of percent at k = 128.
        float ratio = VectorKernels.Dot(px, px) / VectorKernels.Dot(x, x);
        Assert.InRange(ratio, 0.7f, 1.3f);
    }

    [Fact]
    public void Pca_finds_the_dominant_subspace()
    {
        var sample = Sample(500, 40, 2);
        var pca = PcaProjection.Fit(sample, 8);
        // Eight planted directions: 8 components keep nearly all variance, and they come largest first.
        var variances = pca.ExplainedVariance;
        for (int i = 1; i < variances.Count; i++)
        {
            Assert.True(variances[i] <= variances[i - 1]);
        }
        double total = 0;
        var mean = new double[40];
        foreach (var v in sample)
        {
            for (int i = 0; i < 40; i++)
            {
                mean[i] += v[i] / sample.Count;
            }
        }
        foreach (var v in sample)
        {
            for (int i = 0; i < 40; i++)
            {
                total += (v[i] - mean[i]) * (v[i] - mean[i]) / (sample.Count - 1);
            }
        }
        Assert.True(variances.Sum() / total > 0.999, $"kept {variances.Sum() / total}");
        // Projected coordinates are centred and their variances are the eigenvalues.
        var projected = sample.Select(v => { var p = new float[8]; pca.Project(v, p); return p; }).ToList();
        for (int k = 0; k < 8; k++)
        {
            double m = projected.Average(p => p[k]);
            double var = projected.Sum(p => (p[k] - m) * (p[k] - m)) / (sample.Count - 1);
            Assert.True(Math.Abs(m) < 1e-3 * Math.Sqrt(variances[0]));
            Assert.Equal(variances[k], var, variances[0] * 1e-3);
        }
    }

    [Fact]
    public void Read_rejects_garbage()
    {
        using var stream = new MemoryStream([1, 2, 3, 4, 5, 6, 7, 8]);
        Assert.Throws<InvalidDataException>(() => ProjectionSerializer.Read(stream));
    }

    [Fact]
    public void Unknown_kind_is_rejected()
    {
        Assert.Throws<ArgumentException>(() => ProjectionSerializer.Create("lsh", 8, 4));
    }
}
