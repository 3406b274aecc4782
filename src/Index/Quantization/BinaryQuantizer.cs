using System.Buffers.Binary;

namespace VectorStoreDb.Index.Quantization;

/// <summary>
/// Binary quantizer: one bit per dimension, set when the component is above the dimension's fitted centre
/// (the mean; zero for normalised embeddings is close to it). Hamming distance between codes ranks by angle,
/// so it is meant for normalised models of a few hundred dimensions or more, with rescoring by full vectors.
/// </summary>
public sealed class BinaryQuantizer
{
    private BinaryQuantizer(float[] centres) => Centres = centres;

    public int Dimension => Centres.Length;

    /// <summary><see cref="ulong"/> words per code.</summary>
    public int Words => (Dimension + 63) / 64;

    /// <summary>Per-dimension threshold of the sign bit.</summary>
    public float[] Centres { get; }

    /// <summary>Fits the per-dimension means on <paramref name="rows"/> (row-major).</summary>
    public static BinaryQuantizer Fit(ReadOnlySpan<float> rows, int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        var sums = new double[dimension];
        int count = 0;
        for (int row = 0; row + dimension <= rows.Length; row += dimension, count++)
        {
            for (int i = 0; i < dimension; i++)
            {
                sums[i] += rows[row + i];
            }
        }
        return new BinaryQuantizer([.. sums.Select(s => count == 0 ? 0f : (float)(s / count))]);
    }

    public void Encode(ReadOnlySpan<float> vector, Span<ulong> code)
    {
        code[..Words].Clear();
        for (int i = 0; i < Dimension; i++)
        {
            if (vector[i] > Centres[i])
            {
                code[i >> 6] |= 1UL << (i & 63);
            }
        }
    }

    public void Write(Stream stream)
    {
        var buffer = new byte[4 + Dimension * 4];
        BinaryPrimitives.WriteInt32LittleEndian(buffer, Dimension);
        for (int i = 0; i < Dimension; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(4 + i * 4), Centres[i]);
        }
        stream.Write(buffer);
    }

    public static BinaryQuantizer Read(Stream stream)
    {
        Span<byte> header = stackalloc byte[4];
        stream.ReadExactly(header);
        int dimension = BinaryPrimitives.ReadInt32LittleEndian(header);
        if (dimension is < 1 or > 1 << 20)
        {
            throw new InvalidDataException("Corrupt binary-quantizer parameters.");
        }
        var buffer = new byte[dimension * 4];
        stream.ReadExactly(buffer);
        var centres = new float[dimension];
        for (int i = 0; i < dimension; i++)
        {
            centres[i] = BinaryPrimitives.ReadSingleLittleEndian(buffer.AsSpan(i * 4));
        }
        return new BinaryQuantizer(centres);
    }
}
