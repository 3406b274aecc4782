using System.Diagnostics;
using VectorStoreDb.Engine.Projection;
using VectorStoreDb.Engine.Diagnostics;
using VectorStoreDb.Engine.Filtering;
using VectorStoreDb.Engine.Shards;
using VectorStoreDb.Engine.Storage;
using VectorStoreDb.Engine.Storage.Format;
using VectorStoreDb.Engine.Text;
using VectorStoreDb.Index;

namespace VectorStoreDb.Engine;

/// <summary>
/// One shard of a collection: its own log and the documents that hash to it. Its state is a set of components
/// (documents, full vectors, projected vectors, text), each in its own class; the shard owns the log, the locks, the
/// label allocation and recovery, and feeds every write to the components in one order. Writes are serialised per
/// shard only while they are appended to the log and applied (log order = apply order); the wait for the log flush
/// happens outside the lock so concurrent writers share a flush. Reads never take the lock.
/// </summary>
internal sealed class Shard : IDisposable
{
    private readonly IShardStore _store;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly SemaphoreSlim _checkpointLock = new(1, 1);
    private readonly DocumentTable _documents;
    private readonly VectorIndexComponent _vectors;
    private readonly ProjectedIndexComponent _projected;
    private readonly TextIndexComponent? _text;
    // Upserts run through these in order (vectors before the document, the document before its id, so a reader
    // that finds an id or a label finds the rest); removals run in reverse.
    private readonly IShardComponent[] _components;
    private Stack<int> _freeLabels = new();
    private int _nextLabel;
    private bool _disposed;

    public Shard(CollectionSettings settings, IShardStore store, IProjection? projection = null)
    {
        _store = store;
        _documents = new DocumentTable(_writeLock);
        _vectors = new VectorIndexComponent(settings);
        _projected = new ProjectedIndexComponent(settings, _vectors, _documents);
        _text = settings.TextIndex is { } text ? new TextIndexComponent(text) : null;
        _components = _text is null ? [_vectors, _projected, _documents] : [_vectors, _projected, _text, _documents];
        try
        {
            // Before recovery, so replayed writes and a loaded checkpoint fill the projected index too.
            if (projection is not null)
            {
                _projected.Start(projection);
            }
            Recovery = store.Recover(source => Load(CheckpointFormat.Read(source, settings)), Apply, Reset);
            if (Recovery.TornTail)
            {
                // New entries would land after the damaged bytes, where the next recovery stops reading: checkpoint
                // now so the next recovery starts after the damage.
                CheckpointAsync(force: true, CancellationToken.None).GetAwaiter().GetResult();
            }
        }
        catch
        {
            store.Dispose();
            DisposeComponents();
            throw;
        }
    }

    public ShardRecoveryInfo Recovery { get; }

    public int Count => _documents.Count;

    /// <summary>The full-vector index.</summary>
    public IVectorIndex Index => _vectors.Index;

    /// <summary>Index labels held by chunks beyond each document's first; 0 when no document is chunked.</summary>
    public int ExtraChunkLabels => _documents.ExtraChunkLabels;

    /// <summary>The shard's BM25 index, or null when the collection has none.</summary>
    public TextIndex? TextIndex => _text?.Index;

    /// <summary>The projection the index holds, or null when searches run over the full vectors.</summary>
    public IProjection? Projection => _projected.Current?.Projection;

    /// <summary>The index over projected vectors, or null (for the metrics and tests).</summary>
    internal IVectorIndex? ProjectedIndexOrNull => _projected.Current?.Index;

    /// <summary>True when the projected index came whole from the last loaded checkpoint instead of being rebuilt.</summary>
    internal bool ProjectedIndexLoaded => _projected.LoadedFromCheckpoint;

    /// <summary>Runs between the lock-free projection build and the catch-up (tests write there to pin the race down).</summary>
    internal Action? BeforeProjectionCatchUp { get; set; }

    /// <summary>The log position after the last write (tests use it to find the log tail on disk).</summary>
    internal long LogPosition => _store.Position;

    /// <summary>True when the log holds records that no checkpoint covers yet.</summary>
    public bool HasUncheckpointedWrites => _store.Position > _store.CheckpointPosition;

    /// <summary>
    /// Appends to the log and applies, then waits until the log is durable (sync mode). A write is visible to
    /// queries as soon as it is applied, which can be a moment before it is acknowledged. Cancellation is honoured
    /// only before the log append starts.
    /// </summary>
    public async Task WriteAsync(IReadOnlyList<StorageRecord> records, CancellationToken cancellationToken)
    {
        long position;
        // The commit span and latency cover append + durable flush (group commit), i.e. what the writer waits for.
        using var activity = VectorStoreTelemetry.Source.StartActivity(VectorStoreTelemetry.Spans.StorageCommit);
        activity?.SetTag(VectorStoreTelemetry.Tags.Records, records.Count);
        long started = Stopwatch.GetTimestamp();
        // Text analysis is the costly part of indexing text and needs no lock: do it before queueing for the lock.
        var analyzed = _text?.Analyze(records);
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            position = _store.Append(records);
            for (int i = 0; i < records.Count; i++)
            {
                Apply(records[i], analyzed?[i]);
            }
        }
        finally
        {
            _writeLock.Release();
        }
        await _store.WaitForDurableAsync(position, CancellationToken.None);
        VectorStoreTelemetry.CommitDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    /// <summary>
    /// Writes a checkpoint: the state is copied under the write lock (writes to this shard pause for that long,
    /// reads go on), then serialised, flushed and renamed outside it, after which the log is truncated.
    /// </summary>
    public async Task<bool> CheckpointAsync(bool force, CancellationToken cancellationToken)
    {
        await _checkpointLock.WaitAsync(cancellationToken);
        try
        {
            if (_disposed || (!force && !HasUncheckpointedWrites))
            {
                return false;
            }
            ShardImage image;
            long position;
            await _writeLock.WaitAsync(cancellationToken);
            try
            {
                position = _store.Position;
                image = Capture();
            }
            finally
            {
                _writeLock.Release();
            }
            await Task.Run(() =>
            {
                using var file = _store.BeginCheckpoint(position);
                CheckpointFormat.Write(file.Stream, image);
                file.Commit();
            }, CancellationToken.None);
            return true;
        }
        finally
        {
            _checkpointLock.Release();
        }
    }

    /// <summary>Writes the shard's state consistently (copied under the write lock) into a snapshot stream.</summary>
    public async Task WriteSnapshotAsync(Stream destination, CancellationToken cancellationToken)
    {
        ShardImage image;
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            image = Capture();
        }
        finally
        {
            _writeLock.Release();
        }
        await Task.Run(() => CheckpointFormat.Write(destination, image), cancellationToken);
    }

    /// <summary>Replaces this (empty, new) shard's state with one read and checked whole beforehand (a snapshot's shard section).</summary>
    public void Install(ShardCheckpoint state)
    {
        _writeLock.Wait();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            Load(state);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public bool ContainsId(string id) => _documents.TryGetLabel(id, out _);

    /// <summary>The stored document (with its chunks) under <paramref name="id"/>, or null.</summary>
    public StoredDocument? GetStored(string id) =>
        _documents.TryGetLabel(id, out int label) ? _documents.Get(label) : null;

    public Document? Get(string id, bool includeVector)
    {
        if (!_documents.TryGetLabel(id, out int label) || _documents.Get(label) is not { } stored)
        {
            return null;
        }
        return new Document(stored.Id, stored.Text, stored.Metadata, includeVector ? ReadVector(label) : null)
        {
            Chunks = stored.Chunks is { } chunks ? [.. chunks.Select((c, i) => new ChunkSpan(i, c.Start, c.End))] : null,
        };
    }

    public StoredDocument? GetByLabel(int label) => _documents.Get(label);

    public float[]? ReadVector(int label) => _vectors.ReadVector(label);

    public int Search(ReadOnlySpan<float> query, Span<Neighbor> destination, SearchParameters parameters, MetadataFilter? filter)
    {
        var projected = _projected.Current;
        var index = _vectors.Index;
        // Planner: a very selective filter is answered by the exact filtered scan (distances for matches only)
        // over the full vectors, which also makes rescoring unnecessary.
        string searchedKind = projected is not null && !parameters.Exact ? projected.Index.Kind : index.Kind;
        if (filter is not null && !parameters.Exact && searchedKind != IndexKinds.Exact
            && QueryPlanner.PreferExactScan(this, filter, QueryPlanner.EffectiveEf(parameters.Ef, destination.Length), out _))
        {
            parameters = parameters with { Exact = true };
        }
        var labelFilter = filter is null ? null : new DocumentFilter(_documents, filter);
        if (projected is not null && !parameters.Exact)
        {
            return _projected.Search(projected, query, destination, parameters, labelFilter);
        }
        return labelFilter is null ? index.Search(query, destination, parameters) : index.Search(query, destination, parameters, labelFilter);
    }

    /// <summary>BM25 search in this shard under collection-wide statistics; results are (label, −score), best first.</summary>
    public int SearchText(Bm25Statistics statistics, TextIndexSettings settings, Span<Neighbor> destination, MetadataFilter? filter) =>
        _text is null ? 0 : _text.Search(statistics, settings, destination, filter is null ? null : new DocumentFilter(_documents, filter));

    /// <summary>Fraction of documents passing <paramref name="filter"/>, measured on up to <paramref name="sampleSize"/> evenly spaced labels.</summary>
    public double EstimateSelectivity(MetadataFilter filter, int sampleSize) =>
        _documents.EstimateSelectivity(filter, sampleSize, Volatile.Read(ref _nextLabel));

    /// <inheritdoc cref="DocumentTable.CollectIdsAfter"/>
    public void CollectIdsAfter(string? after, int count, List<string> destination) => _documents.CollectIdsAfter(after, count, destination);

    /// <summary>Full vectors of up to <paramref name="max"/> live documents (a PCA sample).</summary>
    public List<float[]> SampleVectors(int max)
    {
        var sample = new List<float[]>(Math.Min(max, Count));
        foreach (var label in _documents.Labels)
        {
            if (sample.Count >= max)
            {
                break;
            }
            if (ReadVector(label) is { } vector)
            {
                sample.Add(vector);
            }
        }
        return sample;
    }

    /// <summary>
    /// Switches the shard to <paramref name="projection"/> (null: back to full vectors), building the new projected
    /// index while writes go on. Calls are serialised by the collection (one refit at a time).
    /// </summary>
    public void SetProjection(IProjection? projection) => _projected.Rebuild(projection, UnderWriteLock, BeforeProjectionCatchUp);

    private void UnderWriteLock(Action action)
    {
        _writeLock.Wait();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            action();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private void Apply(StorageRecord record) => Apply(record, null);

    private void Apply(StorageRecord record, AnalyzedText? analyzed)
    {
        if (record.Kind == RecordKind.Delete)
        {
            if (_documents.TryGetLabel(record.Id, out int removed) && _documents.Get(removed) is { } old)
            {
                // Chunks first, then the document's own label: the free list's order decides which labels later
                // writes get, and so the checkpoint bytes, which must stay as they were.
                ReleaseExtraChunks(old);
                Release(removed);
            }
            return;
        }
        if (_documents.TryGetLabel(record.Id, out int label))
        {
            // A replaced document's extra chunks go first, so the new chunks can reuse their labels.
            ReleaseExtraChunks(_documents.Get(label));
        }
        else
        {
            label = AllocateLabel();
        }
        if (record.Vector is null)
        {
            throw new InvalidDataException($"Upsert record for {record.Id} has no vector.");
        }
        var document = new StoredDocument(record.Id, record.Text, record.Metadata ?? Metadata.Empty) { Chunks = AllocateChunks(label, record.Chunks) };
        var write = new ShardWrite(label, document, record, analyzed);
        foreach (var component in _components)
        {
            component.ApplyUpsert(write);
        }
    }

    /// <summary>Labels for a new version's chunks: chunk 0 keeps the document's label, the others come from the free list.</summary>
    private StoredChunk[]? AllocateChunks(int label, IReadOnlyList<ChunkRecord>? chunks)
    {
        if (chunks is not { Count: > 1 })
        {
            return null;
        }
        var stored = new StoredChunk[chunks.Count];
        stored[0] = new StoredChunk(label, chunks[0].Start, chunks[0].End);
        for (int i = 1; i < stored.Length; i++)
        {
            stored[i] = new StoredChunk(AllocateLabel(), chunks[i].Start, chunks[i].End);
        }
        return stored;
    }

    /// <summary>Frees the labels of every chunk but the first (the document's own label stays with its id).</summary>
    private void ReleaseExtraChunks(StoredDocument? document)
    {
        if (document?.Chunks is not { } chunks)
        {
            return;
        }
        for (int i = 1; i < chunks.Length; i++)
        {
            Release(chunks[i].Label);
        }
    }

    private int AllocateLabel()
    {
        int label = _freeLabels.Count > 0 ? _freeLabels.Pop() : _nextLabel++;
        _documents.EnsureCapacity(label);
        return label;
    }

    private void Release(int label)
    {
        for (int i = _components.Length - 1; i >= 0; i--)
        {
            _components[i].ApplyRemove(label);
        }
        _freeLabels.Push(label);
    }

    private void Reset()
    {
        foreach (var component in _components)
        {
            component.Reset();
        }
        _freeLabels = new Stack<int>();
        _nextLabel = 0;
    }

    private ShardImage Capture()
    {
        var image = new ShardImageBuilder(_nextLabel);
        foreach (var component in _components)
        {
            component.Capture(image);
        }
        return image.Build();
    }

    /// <summary>Swaps in a checkpoint that was read and checked whole: the components take their parts, the shard its labels.</summary>
    private void Load(ShardCheckpoint checkpoint)
    {
        using (checkpoint)
        {
            var free = new Stack<int>();
            for (int label = checkpoint.NextLabel - 1; label >= 0; label--)
            {
                if (checkpoint.Documents[label] is null)
                {
                    free.Push(label);
                }
            }
            // The documents and full vectors first: the projected index is rebuilt from them when the saved one does not fit.
            _documents.Load(checkpoint);
            _vectors.Load(checkpoint);
            _projected.Load(checkpoint);
            _text?.Load(checkpoint);
            _freeLabels = free;
            _nextLabel = checkpoint.NextLabel;
        }
    }

    public void Dispose()
    {
        _checkpointLock.Wait();
        _writeLock.Wait();
        try
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            _store.Dispose();
            DisposeComponents();
        }
        finally
        {
            _writeLock.Release();
            _checkpointLock.Release();
        }
    }

    private void DisposeComponents()
    {
        foreach (var component in _components)
        {
            component.Dispose();
        }
    }
}
