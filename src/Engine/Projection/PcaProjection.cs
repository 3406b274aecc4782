using System.Text;
using VectorStoreDb.Index;

namespace VectorStoreDb.Engine.Projection;

/// <summary>
/// Principal component projection fitted on a sample of embeddings: subtracts the sample mean and keeps the top
/// components of the covariance (cyclic Jacobi eigen-decomposition, exact for the few-hundred dimensions sentence
/// encoders produce). Keeps more of the variance than a random projection of the same size, so rescoring has less
/// to repair.
/// </summary>
public sealed class PcaProjection : IProjection
{
    private readonly float[] _mean;
    private readonly float[] _components; // OutputDimension rows of InputDimension, largest variance first
    private readonly float[] _eigenvalues;

    internal PcaProjection(float[] mean, float[] components, float[] eigenvalues)
    {
        _mean = mean;
        _components = components;
        _eigenvalues = eigenvalues;
        InputDimension = mean.Length;
        OutputDimension = eigenvalues.Length;
    }

    public string Kind => "pca";

    public int InputDimension { get; }

    public int OutputDimension { get; }

    /// <summary>Variance along each kept component, largest first.</summary>
    public IReadOnlyList<float> ExplainedVariance => _eigenvalues;

    /// <summary>Fits on <paramref name="sample"/> (at least 2 vectors) keeping <paramref name="outputDimension"/> components.</summary>
    public static PcaProjection Fit(IReadOnlyList<float[]> sample, int outputDimension)
    {
        ArgumentNullException.ThrowIfNull(sample);
        if (sample.Count < 2)
        {
            throw new ArgumentException("PCA needs at least 2 sample vectors.", nameof(sample));
        }
        int d = sample[0].Length;
        ArgumentOutOfRangeException.ThrowIfLessThan(outputDimension, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(outputDimension, d);
        var mean = new double[d];
        foreach (var v in sample)
        {
            if (v.Length != d)
            {
                throw new ArgumentException("Sample vectors differ in length.", nameof(sample));
            }
            for (int i = 0; i < d; i++)
            {
                mean[i] += v[i];
            }
        }
        for (int i = 0; i < d; i++)
        {
            mean[i] /= sample.Count;
        }
        var cov = new double[d, d];
        var centered = new double[d];
        foreach (var v in sample)
        {
            for (int i = 0; i < d; i++)
            {
                centered[i] = v[i] - mean[i];
            }
            for (int i = 0; i < d; i++)
            {
                double ci = centered[i];
                for (int j = i; j < d; j++)
                {
                    cov[i, j] += ci * centered[j];
                }
            }
        }
        for (int i = 0; i < d; i++)
        {
            for (int j = i; j < d; j++)
            {
                cov[i, j] /= sample.Count - 1;
                cov[j, i] = cov[i, j];
            }
        }
        var (values, vectors) = JacobiEigen(cov, d);
        var order = Enumerable.Range(0, d).OrderByDescending(i => values[i]).ThenBy(i => i).ToArray();
        var components = new float[outputDimension * d];
        var kept = new float[outputDimension];
        for (int k = 0; k < outputDimension; k++)
        {
            int col = order[k];
            kept[k] = (float)Math.Max(values[col], 0);
            // Fix the sign (largest entry positive) so refits on the same data agree.
            int argMax = 0;
            for (int i = 1; i < d; i++)
            {
                if (Math.Abs(vectors[i, col]) > Math.Abs(vectors[argMax, col]))
                {
                    argMax = i;
                }
            }
            double sign = vectors[argMax, col] < 0 ? -1 : 1;
            for (int i = 0; i < d; i++)
            {
                components[k * d + i] = (float)(sign * vectors[i, col]);
            }
        }
        return new PcaProjection([.. mean.Select(m => (float)m)], components, kept);
    }

    public void Project(ReadOnlySpan<float> input, Span<float> output)
    {
        int d = InputDimension;
        Span<float> centered = d <= 2048 ? stackalloc float[d] : new float[d];
        for (int i = 0; i < d; i++)
        {
            centered[i] = input[i] - _mean[i];
        }
        for (int k = 0; k < OutputDimension; k++)
        {
            output[k] = VectorKernels.Dot(_components.AsSpan(k * d, d), centered);
        }
    }

    public void Write(Stream stream)
    {
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        ProjectionSerializer.WriteHeader(writer, Kind, InputDimension, OutputDimension);
        ProjectionSerializer.WriteFloats(writer, _mean);
        ProjectionSerializer.WriteFloats(writer, _components);
        ProjectionSerializer.WriteFloats(writer, _eigenvalues);
    }

    /// <summary>Cyclic Jacobi rotations on a symmetric matrix: eigenvalues and column eigenvectors.</summary>
    private static (double[] Values, double[,] Vectors) JacobiEigen(double[,] a, int n)
    {
        var v = new double[n, n];
        for (int i = 0; i < n; i++)
        {
            v[i, i] = 1;
        }
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
            {
                total += a[i, j] * a[i, j];
            }
        }
        for (int sweep = 0; sweep < 50; sweep++)
        {
            double off = 0;
            for (int p = 0; p < n; p++)
            {
                for (int q = p + 1; q < n; q++)
                {
                    off += a[p, q] * a[p, q];
                }
            }
            if (off <= 1e-22 * total || total == 0)
            {
                break;
            }
            for (int p = 0; p < n - 1; p++)
            {
                for (int q = p + 1; q < n; q++)
                {
                    double apq = a[p, q];
                    if (Math.Abs(apq) < 1e-300)
                    {
                        continue;
                    }
                    double theta = (a[q, q] - a[p, p]) / (2 * apq);
                    double t = Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    if (theta == 0)
                    {
                        t = 1;
                    }
                    double c = 1 / Math.Sqrt(t * t + 1);
                    double s = t * c;
                    for (int k = 0; k < n; k++)
                    {
                        double akp = a[k, p], akq = a[k, q];
                        a[k, p] = c * akp - s * akq;
                        a[k, q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double apk = a[p, k], aqk = a[q, k];
                        a[p, k] = c * apk - s * aqk;
                        a[q, k] = s * apk + c * aqk;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double vkp = v[k, p], vkq = v[k, q];
                        v[k, p] = c * vkp - s * vkq;
                        v[k, q] = s * vkp + c * vkq;
                    }
                }
            }
        }
        var values = new double[n];
        for (int i = 0; i < n; i++)
        {
            values[i] = a[i, i];
        }
        return (values, v);
    }
}
