using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;
using VectorStoreDb.Engine.Diagnostics;
using VectorStoreDb.Engine.Filtering;
using VectorStoreDb.Engine.Storage;
using VectorStoreDb.Engine.Text;
using VectorStoreDb.Index;

namespace VectorStoreDb.Engine;

/// <summary>
/// One shard of a collection: its own index, its own log and the documents that hash to it. Writes are
/// serialised per shard only while they are appended to the log and applied (log order = apply order); the
/// wait for the log flush happens outside the lock so concurrent writers share a flush. Reads never take the lock.
/// </summary>
internal sealed partial class Shard : IDisposable
{
    private const int StateMagic = 0x48535356; // "VSSH"
    // Version 2 adds the chunk section; version 1 states (no chunks) still load.
    private const int StateVersion = 2;
    private const int SectionMarker = 0x5E5E5E5E;

    private readonly CollectionSettings _settings;
    private readonly IShardStore _store;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly SemaphoreSlim _checkpointLock = new(1, 1);
    private IVectorIndex _index;
    private ConcurrentDictionary<string, int> _labels = new(StringComparer.Ordinal);
    private Stack<int> _freeLabels = new();
    private volatile StoredDocument?[] _documents = new StoredDocument?[1024];
    private int _nextLabel;
    private bool _disposed;

    public Shard(CollectionSettings settings, IShardStore store, Embedding.Projection.IProjection? projection = null)
    {
        _settings = settings;
        _store = store;
        _index = IndexFactory.Create(settings);
        _text = CreateTextIndex(settings);
        // Before recovery, so replayed writes and a loaded checkpoint fill the projected index too.
        _projected = projection is null ? null : EmptyProjected(projection);
        try
        {
            Recovery = store.Recover(LoadState, Apply, Reset);
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
            _index.Dispose();
            _text?.Dispose();
            _projected?.Index.Dispose();
            throw;
        }
    }

    public ShardRecoveryInfo Recovery { get; }

    public int Count => _labels.Count;

    public IVectorIndex Index => _index;

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
        var analyzed = AnalyzeForText(records);
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
    /// Writes a checkpoint: the state is serialised under the write lock (writes to this shard pause for that
    /// long, reads go on), then flushed and renamed outside it, after which the log is truncated.
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
            // Only the in-memory copy happens under the write lock; serialising, checksumming and fsync run outside it.
            StateImage image;
            long position;
            await _writeLock.WaitAsync(cancellationToken);
            try
            {
                position = _store.Position;
                image = CaptureState();
            }
            finally
            {
                _writeLock.Release();
            }
            await Task.Run(() =>
            {
                using var file = _store.BeginCheckpoint(position);
                image.WriteTo(file.Stream);
                file.Commit();
            }, CancellationToken.None);
            return true;
        }
        finally
        {
            _checkpointLock.Release();
        }
    }

    /// <summary>Writes the shard's state consistently (under the write lock) into a snapshot stream.</summary>
    public async Task WriteSnapshotAsync(Stream destination, CancellationToken cancellationToken)
    {
        StateImage image;
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            image = CaptureState();
        }
        finally
        {
            _writeLock.Release();
        }
        await Task.Run(() => image.WriteTo(destination), cancellationToken);
    }

    /// <summary>Replaces this (empty, new) shard's state with one read from a snapshot.</summary>
    public void RestoreFrom(Stream source)
    {
        _writeLock.Wait();
        try
        {
            LoadState(source);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public bool ContainsId(string id) => _labels.ContainsKey(id);

    /// <summary>The stored document (with its chunks) under <paramref name="id"/>, or null.</summary>
    public StoredDocument? GetStored(string id) =>
        _labels.TryGetValue(id, out int label) ? GetByLabel(label) : null;

    public Document? Get(string id, bool includeVector)
    {
        if (!_labels.TryGetValue(id, out int label) || _documents[label] is not { } stored)
        {
            return null;
        }
        return new Document(stored.Id, stored.Text, stored.Metadata, includeVector ? ReadVector(label) : null)
        {
            Chunks = stored.Chunks is { } chunks ? [.. chunks.Select((c, i) => new ChunkSpan(i, c.Start, c.End))] : null,
        };
    }

    public StoredDocument? GetByLabel(int label)
    {
        var documents = _documents;
        return (uint)label < (uint)documents.Length ? documents[label] : null;
    }

    public float[]? ReadVector(int label)
    {
        var vector = new float[_index.Dimension];
        return _index.TryGetVector(label, vector) ? vector : null;
    }

    public int Search(ReadOnlySpan<float> query, Span<Neighbor> destination, SearchParameters parameters, MetadataFilter? filter)
    {
        var projected = _projected;
        var index = _index;
        // Planner: a very selective filter is answered by the exact filtered scan (distances for matches only)
        // over the full vectors, which also makes rescoring unnecessary.
        string searchedKind = projected is not null && !parameters.Exact ? projected.Index.Kind : index.Kind;
        if (filter is not null && !parameters.Exact && searchedKind != IndexKinds.Exact
            && QueryPlanner.PreferExactScan(this, filter, QueryPlanner.EffectiveEf(parameters.Ef, destination.Length), out _))
        {
            parameters = parameters with { Exact = true };
        }
        if (projected is not null && !parameters.Exact)
        {
            return SearchProjected(projected, query, destination, parameters, filter);
        }
        return filter is null
            ? index.Search(query, destination, parameters)
            : index.Search(query, destination, parameters, new DocumentFilter(this, filter));
    }

    /// <summary>Fraction of documents passing <paramref name="filter"/>, measured on up to <paramref name="sampleSize"/> evenly spaced labels.</summary>
    public double EstimateSelectivity(MetadataFilter filter, int sampleSize)
    {
        var documents = _documents;
        int end = Math.Min(Volatile.Read(ref _nextLabel), documents.Length);
        int step = Math.Max(1, end / sampleSize);
        int sampled = 0;
        int matched = 0;
        for (int label = 0; label < end; label += step)
        {
            if (documents[label] is { } document)
            {
                sampled++;
                matched += filter.Matches(document.Metadata) ? 1 : 0;
            }
        }
        return sampled == 0 ? 0 : (double)matched / sampled;
    }

    private void Apply(StorageRecord record) => Apply(record, null);

    private void Apply(StorageRecord record, AnalyzedText? analyzed)
    {
        if (record.Kind == RecordKind.Delete)
        {
            if (_labels.TryRemove(record.Id, out int removed))
            {
                ReleaseExtraChunks(_documents[removed]);
                ReleaseLabel(removed);
                TrackOrderedId(record.Id, added: false);
            }
            return;
        }
        if (_labels.TryGetValue(record.Id, out int label))
        {
            // A replaced document's extra chunks go first, so the new chunks can reuse their labels.
            ReleaseExtraChunks(_documents[label]);
        }
        else
        {
            label = AllocateLabel();
        }
        var vector = record.Vector ?? throw new InvalidDataException($"Upsert record for {record.Id} has no vector.");
        var chunks = AllocateChunks(label, record.Chunks);
        // Vectors first, then the document, then the id: a reader that finds the id (or a chunk's label) always finds both.
        _index.Upsert(label, vector);
        _projected?.Upsert(label, vector);
        _projectionRebuildTouched?.Add(label);
        for (int i = 1; i < (chunks?.Length ?? 0); i++)
        {
            _index.Upsert(chunks![i].Label, record.Chunks![i].Vector);
            _projected?.Upsert(chunks[i].Label, record.Chunks[i].Vector);
            _projectionRebuildTouched?.Add(chunks[i].Label);
        }
        var document = new StoredDocument(record.Id, record.Text, record.Metadata ?? Metadata.Empty) { Chunks = chunks };
        for (int i = 1; i < (chunks?.Length ?? 0); i++)
        {
            _documents[chunks![i].Label] = document;
        }
        _documents[label] = document;
        if (_text is not null)
        {
            _text.Upsert(label, analyzed ?? _text.Analyze(record.Text));
        }
        if (_labels.TryAdd(record.Id, label))
        {
            TrackOrderedId(record.Id, added: true);
        }
    }

    private int AllocateLabel()
    {
        int label = _freeLabels.Count > 0 ? _freeLabels.Pop() : _nextLabel++;
        EnsureCapacity(label);
        return label;
    }

    private void ReleaseLabel(int label)
    {
        _index.Remove(label);
        _text?.Remove(label);
        _projected?.Index.Remove(label);
        _projectionRebuildTouched?.Add(label);
        _documents[label] = null;
        _freeLabels.Push(label);
    }

    private void Reset()
    {
        _index.Dispose();
        _index = IndexFactory.Create(_settings);
        RebuildProjected();
        _labels = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        _freeLabels = new Stack<int>();
        _documents = new StoredDocument?[1024];
        _nextLabel = 0;
        _chunkLabels = 0;
        ResetText();
        ResetOrderedIds();
    }

    /// <summary>
    /// A point-in-time copy of the shard, taken under the write lock: the document table is copied by reference
    /// (documents are immutable) and the index saves itself into memory, so the lock is held for a memory copy only.
    /// </summary>
    private StateImage CaptureState()
    {
        var documents = (StoredDocument?[])_documents.Clone();
        var index = new ChunkedBuffer();
        _index.Save(index);
        return new StateImage(documents, _nextLabel, _labels.Count, _index.Kind, index, CaptureProjected());
    }

    /// <summary>
    /// Documents (label, id, text, metadata), their chunks, the index as the index itself saved it, then the
    /// projected index when the shard has one.
    /// </summary>
    private sealed record StateImage(StoredDocument?[] Documents, int NextLabel, int Count, string IndexKind, ChunkedBuffer Index, SavedProjectedIndex? Projected)
    {
        public void WriteTo(Stream destination)
        {
            using var writer = new BinaryWriter(destination, Encoding.UTF8, leaveOpen: true);
            writer.Write(StateMagic);
            writer.Write(StateVersion);
            writer.Write(NextLabel);
            writer.Write(Count);
            int written = 0;
            var chunked = new List<StoredDocument>();
            for (int label = 0; label < NextLabel && label < Documents.Length; label++)
            {
                if (Documents[label] is not { } document || !IsPrimaryLabel(document, label))
                {
                    continue;
                }
                if (document.Chunks is not null)
                {
                    chunked.Add(document);
                }
                writer.Write(label);
                writer.Write(document.Id);
                writer.Write(document.Text is not null);
                if (document.Text is not null)
                {
                    writer.Write(document.Text);
                }
                // Most documents have no metadata: length 0 saves a JSON round trip per document on load.
                var json = document.Metadata.Count == 0 ? [] : Metadata.ToUtf8Json(document.Metadata);
                writer.Write(json.Length);
                writer.Write(json);
                written++;
            }
            if (written != Count)
            {
                throw new InvalidOperationException($"Shard state copy holds {written} documents but counted {Count}.");
            }
            writer.Write(SectionMarker);
            WriteChunks(writer, chunked);
            writer.Write(SectionMarker);
            writer.Write(IndexKind);
            writer.Flush();
            Index.WriteTo(destination);
            writer.Write(SectionMarker);
            WriteProjected(writer, destination, Projected);
            writer.Write(SectionMarker);
            writer.Flush();
        }
    }

    /// <summary>Builds the whole state aside and swaps it in only when everything read back is consistent.</summary>
    private void LoadState(Stream source)
    {
        using var reader = new BinaryReader(source, Encoding.UTF8, leaveOpen: true);
        int version = reader.ReadInt32() == StateMagic ? reader.ReadInt32() : -1;
        if (version is not (1 or StateVersion))
        {
            throw new InvalidDataException("Not a shard state of a supported version.");
        }
        int nextLabel = reader.ReadInt32();
        int count = reader.ReadInt32();
        if (nextLabel < 0 || count < 0 || count > nextLabel)
        {
            throw new InvalidDataException($"Bad shard state header ({count} documents, {nextLabel} labels).");
        }
        var documents = new StoredDocument?[Math.Max(1024, nextLabel)];
        // Sized up front: growing a concurrent dictionary to millions of entries costs more than reading them.
        var labels = new ConcurrentDictionary<string, int>(Environment.ProcessorCount, Math.Max(31, count), StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
        {
            int label = reader.ReadInt32();
            string id = reader.ReadString();
            string? text = reader.ReadBoolean() ? reader.ReadString() : null;
            int jsonLength = reader.ReadInt32();
            if ((uint)label >= (uint)nextLabel || jsonLength < 0 || documents[label] is not null || !labels.TryAdd(id, label))
            {
                throw new InvalidDataException($"Bad document entry {i} (label {label}, id '{id}').");
            }
            documents[label] = new StoredDocument(id, text, jsonLength == 0 ? Metadata.Empty : Metadata.FromUtf8Json(reader.ReadBytes(jsonLength)));
        }
        if (reader.ReadInt32() != SectionMarker)
        {
            throw new InvalidDataException("The document section does not end where expected.");
        }
        int chunkLabels = 0;
        if (version >= 2)
        {
            chunkLabels = ReadChunks(reader, documents, nextLabel);
            if (reader.ReadInt32() != SectionMarker)
            {
                throw new InvalidDataException("The chunk section does not end where expected.");
            }
        }
        string kind = reader.ReadString();
        var index = IndexFactory.Load(kind, source, _settings);
        IVectorIndex? projected = null;
        try
        {
            if (reader.ReadInt32() != SectionMarker)
            {
                throw new InvalidDataException("The index section does not end where expected.");
            }
            if (version >= 2)
            {
                projected = ReadProjected(reader, source, index.Count);
                if (reader.ReadInt32() != SectionMarker)
                {
                    throw new InvalidDataException("The projected index section does not end where expected.");
                }
            }
            foreach (var (id, label) in labels)
            {
                if (!index.Contains(label))
                {
                    throw new InvalidDataException($"Document '{id}' (label {label}) has no vector in the index.");
                }
                foreach (var chunk in documents[label]!.Chunks ?? [])
                {
                    if (!index.Contains(chunk.Label))
                    {
                        throw new InvalidDataException($"Chunk at label {chunk.Label} of document '{id}' has no vector in the index.");
                    }
                }
            }
        }
        catch
        {
            index.Dispose();
            projected?.Dispose();
            throw;
        }
        var free = new Stack<int>();
        for (int label = nextLabel - 1; label >= 0; label--)
        {
            if (documents[label] is null)
            {
                free.Push(label);
            }
        }
        _index.Dispose();
        _index = index;
        _labels = labels;
        _freeLabels = free;
        _nextLabel = nextLabel;
        _chunkLabels = chunkLabels;
        _documents = documents;
        ResetOrderedIds();
        // The checkpoint holds every document's text, so the text index is derived from it, never stored.
        RebuildText(documents);
        UseLoadedProjected(projected);
    }

    private void EnsureCapacity(int label)
    {
        var documents = _documents;
        if (label < documents.Length)
        {
            return;
        }
        var grown = new StoredDocument?[Math.Max(label + 1, documents.Length * 2)];
        documents.CopyTo(grown, 0);
        _documents = grown;
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
            _index.Dispose();
            _text?.Dispose();
            _projected?.Index.Dispose();
        }
        finally
        {
            _writeLock.Release();
            _checkpointLock.Release();
        }
    }

    /// <summary>Evaluates the metadata filter on candidates as the index meets them.</summary>
    private sealed class DocumentFilter(Shard shard, MetadataFilter filter) : ILabelFilter
    {
        public bool Allows(int label) => shard.GetByLabel(label) is { } document && filter.Matches(document.Metadata);
    }
}

/// <summary>A document's non-vector parts as held in memory.</summary>
internal sealed record StoredDocument(string Id, string? Text, IReadOnlyDictionary<string, MetadataValue> Metadata)
{
    /// <summary>
    /// The chunks of a text split into several, in order (chunk 0's label is the document's own label); null for a
    /// document indexed as one vector. Every chunk's label maps to this same document.
    /// </summary>
    public StoredChunk[]? Chunks { get; init; }
}

/// <summary>Where one chunk of a document lives: its index label and its character range in the text.</summary>
internal readonly record struct StoredChunk(int Label, int Start, int End);
