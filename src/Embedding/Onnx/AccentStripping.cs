using System.Text;

namespace VectorStoreDb.Embedding.Onnx;

/// <summary>
/// BERT's accent stripping (NFD, then drop nonspacing marks) without ICU: servers run with InvariantGlobalization,
/// where <see cref="string.Normalize()"/> leaves "é" as it is and the uncased vocabulary then has no piece for it.
/// </summary>
internal static partial class AccentStripping
{
    private const int HangulBase = 0xAC00, HangulCount = 11172, LeadBase = 0x1100, VowelBase = 0x1161, TrailBase = 0x11A7;
    private const int VowelCount = 21, TrailCount = 28;

    // Built on first use: static field initialisers of partial classes run in file order, so the data file's
    // arrays may not be set yet when this file's initialisers run.
    private static Dictionary<int, string>? _map;

    private static Dictionary<int, string> Map => _map ??= Build();

    /// <summary>Appends <paramref name="rune"/> decomposed and without nonspacing marks.</summary>
    public static void Append(Rune rune, StringBuilder output)
    {
        int cp = rune.Value;
        if (cp < 0xC0)
        {
            output.Append((char)cp);
            return;
        }
        if (cp >= HangulBase && cp < HangulBase + HangulCount)
        {
            int s = cp - HangulBase;
            output.Append((char)(LeadBase + s / (VowelCount * TrailCount)));
            output.Append((char)(VowelBase + s % (VowelCount * TrailCount) / TrailCount));
            if (s % TrailCount != 0)
            {
                output.Append((char)(TrailBase + s % TrailCount));
            }
            return;
        }
        if (Map.TryGetValue(cp, out var replacement))
        {
            output.Append(replacement);
            return;
        }
        Span<char> buffer = stackalloc char[2];
        output.Append(buffer[..rune.EncodeToUtf16(buffer)]);
    }

    private static Dictionary<int, string> Build()
    {
        var values = Values.Split('\u0001');
        var map = new Dictionary<int, string>(Keys.Length);
        for (int i = 0; i < Keys.Length; i++)
        {
            map[Keys[i]] = values[i];
        }
        return map;
    }
}
