namespace VectorStoreDb.Engine.Storage.Format;

/// <summary>
/// A point-in-time copy of a shard, taken under its write lock: the document table is copied by reference (documents
/// are immutable) and the indexes saved themselves into memory, so the lock is held for a memory copy only.
/// <see cref="CheckpointFormat.Write"/> turns it into bytes outside the lock.
/// </summary>
internal sealed record ShardImage(StoredDocument?[] Documents, int NextLabel, int Count, string IndexKind, ChunkedBuffer Index, SavedProjectedIndex? Projected);

/// <summary>A projected index as a checkpoint saves it: the fingerprint of its projection, its kind and its own bytes.</summary>
internal sealed record SavedProjectedIndex(ulong Fingerprint, string Kind, ChunkedBuffer Data);
