using System.IO.Hashing;
using System.Runtime.CompilerServices;
using VectorStoreDb.Engine.Projection;
using VectorStoreDb.Index;

namespace VectorStoreDb.Engine.Shards;

/// <summary>An index over projected vectors and the projection that feeds it.</summary>
internal sealed class ProjectedIndex(IProjection projection, IVectorIndex index)
{
    // One projection serves every shard of a collection and every rebuild: hash its matrix once.
    private static readonly ConditionalWeakTable<IProjection, StrongBox<ulong>> Fingerprints = [];

    private readonly float[] _buffer = new float[projection.OutputDimension];

    public IProjection Projection { get; } = projection;

    public IVectorIndex Index { get; } = index;

    /// <summary>Hash of the projection's serialised form: a saved index is reused only under the same projection.</summary>
    public ulong Fingerprint { get; } = Fingerprints.GetValue(projection, static p => new StrongBox<ulong>(FingerprintOf(p))).Value;

    private static ulong FingerprintOf(IProjection projection)
    {
        var hash = new XxHash64();
        using var stream = new MemoryStream();
        projection.Write(stream);
        hash.Append(stream.GetBuffer().AsSpan(0, (int)stream.Length));
        return hash.GetCurrentHashAsUInt64();
    }

    /// <summary>Called under the shard's write lock (or by the one thread building a new index), so the buffer is never shared.</summary>
    public void Upsert(int label, ReadOnlySpan<float> vector)
    {
        Projection.Project(vector, _buffer);
        Index.Upsert(label, _buffer);
    }
}
