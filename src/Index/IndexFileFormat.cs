using System.Buffers.Binary;
using VectorStoreDb.Index.Quantization;

namespace VectorStoreDb.Index;

/// <summary>
/// The parts of the index file layout that <see cref="ExactIndex"/> and <see cref="Hnsw.HnswIndex"/> share: the
/// file versions and the quantization block that follows each index's own fixed header. Each index keeps its
/// magic and header; what comes after the block is its own.
/// </summary>
internal static class IndexFileFormat
{
    /// <summary>The layout without quantization: an unquantized index still writes it, so its files stay byte-identical to older ones.</summary>
    public const int UnquantizedVersion = 1;

    /// <summary>Version 2 adds the quantization block (settings, then the fitted parameters if any); version 1 still loads.</summary>
    public const int QuantizedVersion = 2;

    /// <summary>Kind (int32), rescore (byte), oversampling (float32), fitted (byte).</summary>
    private const int QuantizationBlockBytes = 10;

    /// <summary>
    /// Writes the quantization settings, then the fitted parameters if any. The codes themselves are not written:
    /// they are re-encoded from the full vectors on load, bit for bit the same as before the save.
    /// </summary>
    public static void WriteQuantization(Stream stream, QuantizationSettings settings, QuantizedCodes? codes)
    {
        Span<byte> block = stackalloc byte[QuantizationBlockBytes];
        BinaryPrimitives.WriteInt32LittleEndian(block, (int)settings.Kind);
        block[4] = settings.Rescore ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteSingleLittleEndian(block[5..], settings.Oversampling);
        bool fitted = codes is { IsFitted: true };
        block[9] = fitted ? (byte)1 : (byte)0;
        stream.Write(block);
        if (fitted)
        {
            codes!.WriteParameters(stream);
        }
    }

    /// <summary>
    /// Reads the block <see cref="WriteQuantization"/> wrote, up to (not including) the fitted parameters: the caller
    /// builds its codes from the settings, then reads the parameters into them when <c>Fitted</c> is true.
    /// </summary>
    /// <exception cref="InvalidDataException">The kind is not one <paramref name="accepts"/>.</exception>
    public static (QuantizationSettings Settings, bool Fitted) ReadQuantization(Stream stream, Func<QuantizationKind, bool> accepts, string corruptMessage)
    {
        Span<byte> block = stackalloc byte[QuantizationBlockBytes];
        stream.ReadExactly(block);
        var kind = (QuantizationKind)BinaryPrimitives.ReadInt32LittleEndian(block);
        if (!accepts(kind))
        {
            throw new InvalidDataException($"{corruptMessage} {(int)kind}.");
        }
        return (new QuantizationSettings(kind, block[4] != 0, BinaryPrimitives.ReadSingleLittleEndian(block[5..])), block[9] != 0);
    }
}
