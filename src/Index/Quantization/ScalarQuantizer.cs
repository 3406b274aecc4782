using System.Buffers.Binary;

namespace VectorStoreDb.Index.Quantization;

/// <summary>
/// int8 scalar quantizer: each dimension i is mapped linearly from its fitted range [offset_i, offset_i + 255·scale_i]
/// to a code 0..255 (values outside are clamped). Distances to a float query reduce to one integer kernel:
/// the query is folded with the scales into signed bytes (<see cref="PrepareQuery"/>), so the scan does
/// <c>vpdpbusd</c> over the codes plus one multiply-add per vector.
/// </summary>
public sealed class ScalarQuantizer
{
    private const int Levels = 255;

    private ScalarQuantizer(float[] offsets, float[] scales)
    {
        Offsets = offsets;
        Scales = scales;
    }

    public int Dimension => Offsets.Length;

    /// <summary>Per-dimension minimum of the fitted range.</summary>
    public float[] Offsets { get; }

    /// <summary>Per-dimension step between adjacent codes.</summary>
    public float[] Scales { get; }

    /// <summary>Fits the per-dimension ranges on <paramref name="rows"/> (row-major, <paramref name="dimension"/> floats per row).</summary>
    public static ScalarQuantizer Fit(ReadOnlySpan<float> rows, int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        var min = new float[dimension];
        var max = new float[dimension];
        min.AsSpan().Fill(float.PositiveInfinity);
        max.AsSpan().Fill(float.NegativeInfinity);
        for (int row = 0; row + dimension <= rows.Length; row += dimension)
        {
            var v = rows.Slice(row, dimension);
            for (int i = 0; i < dimension; i++)
            {
                min[i] = MathF.Min(min[i], v[i]);
                max[i] = MathF.Max(max[i], v[i]);
            }
        }
        var scales = new float[dimension];
        for (int i = 0; i < dimension; i++)
        {
            if (!float.IsFinite(min[i]))
            {
                min[i] = 0;
                max[i] = 0;
            }
            // A constant dimension still gets a non-zero step so encoding never divides by zero.
            scales[i] = MathF.Max((max[i] - min[i]) / Levels, 1e-20f);
        }
        return new ScalarQuantizer(min, scales);
    }

    /// <summary>Writes the code of <paramref name="vector"/>; returns how many components fell outside the fitted range (a refit signal).</summary>
    public int Encode(ReadOnlySpan<float> vector, Span<byte> code)
    {
        int clamped = 0;
        for (int i = 0; i < Offsets.Length; i++)
        {
            float level = MathF.Round((vector[i] - Offsets[i]) / Scales[i]);
            if (level < 0 || level > Levels)
            {
                clamped++;
                level = Math.Clamp(level, 0, Levels);
            }
            code[i] = (byte)level;
        }
        return clamped;
    }

    /// <summary>The vector a code stands for.</summary>
    public void Decode(ReadOnlySpan<byte> code, Span<float> vector)
    {
        for (int i = 0; i < Offsets.Length; i++)
        {
            vector[i] = Offsets[i] + Scales[i] * code[i];
        }
    }

    /// <summary>
    /// The per-vector term of the L2 distance, Σ (scale_i · code_i)², stored beside each code so the L2 scan
    /// needs only the dot kernel: ‖x̂ − q‖² = Σ(s·c)² + 2·Σ c·s(o − q) + Σ(o − q)².
    /// </summary>
    public float CodeNorm(ReadOnlySpan<byte> code)
    {
        float sum = 0;
        for (int i = 0; i < Offsets.Length; i++)
        {
            float x = Scales[i] * code[i];
            sum += x * x;
        }
        return sum;
    }

    /// <summary>
    /// Folds a float query into signed bytes for the integer kernel. The approximate internal distance of a
    /// code is then <c>codeTerm·(metric is L2) + factor·Σ code_i·q8_i + constant</c>.
    /// </summary>
    public void PrepareQuery(ReadOnlySpan<float> query, Metric metric, Span<sbyte> quantized, out float factor, out float constant)
    {
        Span<float> weights = query.Length <= 1024 ? stackalloc float[query.Length] : new float[query.Length];
        float constantSum = 0, largest = 0;
        for (int i = 0; i < Offsets.Length; i++)
        {
            if (metric == Metric.L2)
            {
                float d = Offsets[i] - query[i];
                weights[i] = Scales[i] * d;
                constantSum += d * d;
            }
            else
            {
                weights[i] = Scales[i] * query[i];
                constantSum += Offsets[i] * query[i];
            }
            largest = MathF.Max(largest, MathF.Abs(weights[i]));
        }
        float step = largest > 0 ? largest / 127f : 1f;
        for (int i = 0; i < Offsets.Length; i++)
        {
            quantized[i] = (sbyte)Math.Clamp(MathF.Round(weights[i] / step), -127, 127);
        }
        // Dot: distance = −(Σ o·q + step·Σ c·q8). L2: distance = Σ(s·c)² + 2·step·Σ c·q8 + Σ(o − q)².
        factor = metric == Metric.L2 ? 2 * step : -step;
        constant = metric == Metric.L2 ? constantSum : -constantSum;
    }

    /// <summary>Writes the fitted ranges (dimension, then offsets and scales as little-endian floats).</summary>
    public void Write(Stream stream)
    {
        var buffer = new byte[4 + Dimension * 8];
        BinaryPrimitives.WriteInt32LittleEndian(buffer, Dimension);
        for (int i = 0; i < Dimension; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(4 + i * 4), Offsets[i]);
            BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(4 + (Dimension + i) * 4), Scales[i]);
        }
        stream.Write(buffer);
    }

    /// <summary>Reads what <see cref="Write"/> wrote.</summary>
    public static ScalarQuantizer Read(Stream stream)
    {
        Span<byte> header = stackalloc byte[4];
        stream.ReadExactly(header);
        int dimension = BinaryPrimitives.ReadInt32LittleEndian(header);
        if (dimension is < 1 or > 1 << 20)
        {
            throw new InvalidDataException("Corrupt scalar-quantizer parameters.");
        }
        var buffer = new byte[dimension * 8];
        stream.ReadExactly(buffer);
        var offsets = new float[dimension];
        var scales = new float[dimension];
        for (int i = 0; i < dimension; i++)
        {
            offsets[i] = BinaryPrimitives.ReadSingleLittleEndian(buffer.AsSpan(i * 4));
            scales[i] = BinaryPrimitives.ReadSingleLittleEndian(buffer.AsSpan((dimension + i) * 4));
        }
        return new ScalarQuantizer(offsets, scales);
    }
}
