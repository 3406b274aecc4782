namespace VectorStoreDb.Index;

/// <summary>
/// Which labels of a vector block hold a live vector, as a struct the scan is specialised on (the check is
/// inlined, no interface call). Only asked for candidates that would enter the top k.
/// </summary>
internal interface ILiveLabels
{
    /// <summary>
    /// True when writers may store vectors while the scan runs (no index-wide lock): a label that turned live
    /// mid-scan may have been scored from a half-written vector, so its candidates are scored again.
    /// </summary>
    static abstract bool ConcurrentWriters { get; }

    bool IsLive(int label);
}

/// <summary>Live labels as a bitmap (the exact index).</summary>
internal readonly struct LiveBitmap(ulong[] bits) : ILiveLabels
{
    public static bool ConcurrentWriters => false;

    public bool IsLive(int label) => (bits[label >> 6] & (1UL << (label & 63))) != 0;
}

/// <summary>Live labels as a per-label state byte (HNSW nodes).</summary>
internal readonly struct LiveStates(byte[] states, byte live) : ILiveLabels
{
    public static bool ConcurrentWriters => true;

    public bool IsLive(int label) => label < states.Length && Volatile.Read(ref states[label]) == live;
}
