using System.Text;
using VectorStoreDb.Index;

namespace VectorStoreDb.Engine.Projection;

/// <summary>
/// Johnson–Lindenstrauss projection: a seeded Gaussian matrix scaled by 1/√k, which preserves inner products and
/// distances in expectation. Needs no data, so it is available before any document exists.
/// </summary>
public sealed class RandomProjection : IProjection
{
    private readonly float[] _matrix; // OutputDimension rows of InputDimension

    internal RandomProjection(int input, int output, float[] matrix)
    {
        InputDimension = input;
        OutputDimension = output;
        _matrix = matrix;
    }

    public string Kind => "random";

    public int InputDimension { get; }

    public int OutputDimension { get; }

    /// <summary>A projection from <paramref name="input"/> to <paramref name="output"/> dimensions; the same seed gives the same matrix.</summary>
    public static RandomProjection Create(int input, int output, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(output, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(output, input);
        var random = new Random(unchecked((int)(seed ^ (seed >> 32))));
        var matrix = new float[input * output];
        double scale = 1.0 / Math.Sqrt(output);
        for (int i = 0; i < matrix.Length; i++)
        {
            // Box–Muller.
            double u1 = 1.0 - random.NextDouble();
            double u2 = random.NextDouble();
            matrix[i] = (float)(Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2) * scale);
        }
        return new RandomProjection(input, output, matrix);
    }

    public void Project(ReadOnlySpan<float> input, Span<float> output)
    {
        for (int o = 0; o < OutputDimension; o++)
        {
            output[o] = VectorKernels.Dot(_matrix.AsSpan(o * InputDimension, InputDimension), input[..InputDimension]);
        }
    }

    public void Write(Stream stream)
    {
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        ProjectionSerializer.WriteHeader(writer, Kind, InputDimension, OutputDimension);
        ProjectionSerializer.WriteFloats(writer, _matrix);
    }
}
