using System.Collections.Concurrent;
using VectorStoreDb.Index;

namespace VectorStoreDb.Engine.Storage.Format;

/// <summary>
/// A shard's state as read back from a checkpoint (or a snapshot's shard section), built aside and checked whole
/// before any shard sees it. The shard's components take their parts; whatever none takes is disposed with it.
/// </summary>
internal sealed class ShardCheckpoint : IDisposable
{
    public required StoredDocument?[] Documents { get; init; }

    public required ConcurrentDictionary<string, int> Labels { get; init; }

    public required int NextLabel { get; init; }

    /// <summary>Index labels held by chunks beyond each document's first.</summary>
    public required int ExtraChunkLabels { get; init; }

    /// <summary>The full-vector index; null once a component took it.</summary>
    public IVectorIndex? Index { get; set; }

    /// <summary>The saved projected index and the fingerprint of the projection it was built with, or null.</summary>
    public (ulong Fingerprint, IVectorIndex Index)? Projected { get; set; }

    public IVectorIndex TakeIndex()
    {
        var index = Index ?? throw new InvalidOperationException("The checkpoint's index was already taken.");
        Index = null;
        return index;
    }

    public void Dispose()
    {
        Index?.Dispose();
        Projected?.Index.Dispose();
        Index = null;
        Projected = null;
    }
}
