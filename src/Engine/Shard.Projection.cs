using System.Buffers;
using System.IO.Hashing;
using System.Runtime.CompilerServices;
using VectorStoreDb.Engine.Storage;
using VectorStoreDb.Embedding.Projection;
using VectorStoreDb.Engine.Filtering;
using VectorStoreDb.Index;

namespace VectorStoreDb.Engine;

/// <summary>
/// Projection support: beside the full vectors (the durable copy, in a flat store used for rescoring and exact
/// scans) a projected shard keeps an index of the collection's kind over the projected vectors. Checkpoints save
/// that index with the fingerprint of its projection, so a restart loads the graph instead of rebuilding it;
/// a checkpoint whose projection differs (or has none) is rebuilt from the full vectors.
/// </summary>
internal sealed partial class Shard
{
    private volatile ProjectedIndex? _projected;

    /// <summary>The projection the index holds, or null when searches run over the full vectors.</summary>
    public IProjection? Projection => _projected?.Projection;

    /// <summary>The index over projected vectors, or null (for the metrics and tests).</summary>
    internal IVectorIndex? ProjectedIndexOrNull => _projected?.Index;

    /// <summary>True when the projected index came whole from the last loaded checkpoint instead of being rebuilt.</summary>
    internal bool ProjectedIndexLoaded { get; private set; }

    /// <summary>Labels written while <see cref="SetProjection"/> builds outside the write lock (null otherwise); touched under the write lock only.</summary>
    private HashSet<int>? _projectionRebuildTouched;

    /// <summary>Runs between the lock-free build and the catch-up (tests write there to pin the race down).</summary>
    internal Action? BeforeProjectionCatchUp { get; set; }

    /// <summary>
    /// Switches the shard to <paramref name="projection"/> (null: back to full vectors). The new projected index (a
    /// graph build, minutes for millions of vectors) is built from a snapshot of the labels while writes go on; the
    /// labels written meanwhile are recorded and brought up to date under the write lock just before the swap, so
    /// writes pause only for that catch-up. Calls are serialised by the collection (one refit at a time).
    /// </summary>
    public void SetProjection(IProjection? projection)
    {
        if (projection is null)
        {
            Swap(null);
            return;
        }
        var touched = new HashSet<int>();
        StoredDocument?[] documents;
        int end;
        _writeLock.Wait();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            _projectionRebuildTouched = touched;
            documents = _documents;
            end = Math.Min(_nextLabel, documents.Length);
        }
        finally
        {
            _writeLock.Release();
        }
        ProjectedIndex? built = null;
        try
        {
            built = EmptyProjected(projection);
            var buffer = new float[_index.Dimension];
            // A label rewritten while it is read here may be read torn; it is in `touched` and is redone below.
            for (int label = 0; label < end; label++)
            {
                if (documents[label] is not null && _index.TryGetVector(label, buffer))
                {
                    built.Upsert(label, buffer);
                }
            }
            BeforeProjectionCatchUp?.Invoke();
            _writeLock.Wait();
            try
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                foreach (int label in touched)
                {
                    if (GetByLabel(label) is not null && _index.TryGetVector(label, buffer))
                    {
                        built.Upsert(label, buffer);
                    }
                    else
                    {
                        built.Index.Remove(label);
                    }
                }
                var old = _projected;
                _projected = built;
                built = null;
                old?.Index.Dispose();
            }
            finally
            {
                _projectionRebuildTouched = null;
                _writeLock.Release();
            }
        }
        finally
        {
            built?.Index.Dispose();
            if (_projectionRebuildTouched == touched)
            {
                _writeLock.Wait();
                _projectionRebuildTouched = null;
                _writeLock.Release();
            }
        }
    }

    private void Swap(ProjectedIndex? projected)
    {
        _writeLock.Wait();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var old = _projected;
            _projected = projected;
            old?.Index.Dispose();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Full vectors of up to <paramref name="max"/> live documents (a PCA sample).</summary>
    public List<float[]> SampleVectors(int max)
    {
        var sample = new List<float[]>(Math.Min(max, Count));
        foreach (var label in _labels.Values)
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

    private void RebuildProjected()
    {
        if (_projected is { } current)
        {
            _projected = Build(current.Projection);
            current.Index.Dispose();
        }
    }

    private ProjectedIndex EmptyProjected(IProjection projection) =>
        new(projection, IndexFactory.CreateProjected(_settings, projection.OutputDimension, ProjectedMetric(_settings.Metric)));

    private ProjectedIndex Build(IProjection projection)
    {
        var projected = EmptyProjected(projection);
        var buffer = new float[_index.Dimension];
        // Every label, chunks included: each chunk is searched like a document of its own.
        var documents = _documents;
        for (int label = 0; label < Math.Min(_nextLabel, documents.Length); label++)
        {
            if (documents[label] is not null && _index.TryGetVector(label, buffer))
            {
                projected.Upsert(label, buffer);
            }
        }
        return projected;
    }

    /// <summary>The projected index as a checkpoint saves it, or null without a projection.</summary>
    private SavedProjectedIndex? CaptureProjected()
    {
        if (_projected is not { } projected)
        {
            return null;
        }
        var data = new ChunkedBuffer();
        projected.Index.Save(data);
        return new SavedProjectedIndex(projected.Fingerprint, projected.Index.Kind, data);
    }

    private static void WriteProjected(BinaryWriter writer, Stream destination, SavedProjectedIndex? saved)
    {
        writer.Write(saved is not null);
        if (saved is not null)
        {
            writer.Write(saved.Fingerprint);
            writer.Write(saved.Kind);
            writer.Flush();
            saved.Data.WriteTo(destination);
        }
    }

    /// <summary>Reads a saved projected index; returns it only when it was built with the projection this shard uses now.</summary>
    private IVectorIndex? ReadProjected(BinaryReader reader, Stream source, int liveLabels)
    {
        if (!reader.ReadBoolean())
        {
            return null;
        }
        ulong fingerprint = reader.ReadUInt64();
        string kind = reader.ReadString();
        var index = IndexFactory.Load(kind, source);
        if (_projected is { } current && current.Fingerprint == fingerprint && index.Dimension == current.Projection.OutputDimension
            && index.Metric == ProjectedMetric(_settings.Metric) && index.Kind == current.Index.Kind && index.Count == liveLabels)
        {
            return index;
        }
        index.Dispose();
        return null;
    }

    /// <summary>Swaps in a loaded projected index, or rebuilds one from the full vectors when none matched.</summary>
    private void UseLoadedProjected(IVectorIndex? loaded)
    {
        if (_projected is not { } current)
        {
            loaded?.Dispose();
            return;
        }
        if (loaded is null)
        {
            RebuildProjected();
            return;
        }
        _projected = new ProjectedIndex(current.Projection, loaded);
        current.Index.Dispose();
        ProjectedIndexLoaded = true;
    }

    /// <summary>
    /// Cosine vectors are unit length, so Euclidean order equals cosine order, and Euclidean distances are what JL
    /// and PCA preserve (PCA centres the data, which would skew inner products). Dot products stay dot products.
    /// </summary>
    private static Metric ProjectedMetric(Metric metric) => metric == Metric.Dot ? Metric.Dot : Metric.L2;

    private int SearchProjected(ProjectedIndex projected, ReadOnlySpan<float> query, Span<Neighbor> destination, SearchParameters parameters, MetadataFilter? filter)
    {
        int k = destination.Length;
        bool rescore = _settings.Rescore;
        // Enough candidates that the full-vector rescoring can repair the projection's reordering; a query's ef
        // raises the count (random projections need many more than PCA, see notes/encoder.md).
        int candidates = rescore ? Math.Max(Math.Max(k * 4, 40), parameters.Ef) : k;
        var projectedQuery = ArrayPool<float>.Shared.Rent(projected.Projection.OutputDimension);
        var hits = ArrayPool<Neighbor>.Shared.Rent(candidates);
        var vector = ArrayPool<float>.Shared.Rent(_index.Dimension);
        try
        {
            projected.Projection.Project(query, projectedQuery.AsSpan(0, projected.Projection.OutputDimension));
            int found = projected.Index.Search(projectedQuery.AsSpan(0, projected.Projection.OutputDimension), hits.AsSpan(0, candidates),
                parameters with { Ef = Math.Max(parameters.Ef, candidates) }, filter is null ? null : new DocumentFilter(this, filter));
            // Scores always come from the full vectors; without rescoring the projected order is kept.
            var full = vector.AsSpan(0, _index.Dimension);
            int live = 0;
            for (int i = 0; i < found; i++)
            {
                if (_index.TryGetVector(hits[i].Label, full))
                {
                    hits[live++] = new Neighbor(hits[i].Label, _settings.Metric.Distance(query, full));
                }
            }
            if (rescore)
            {
                hits.AsSpan(0, live).Sort(static (a, b) => a.Distance.CompareTo(b.Distance));
            }
            int n = Math.Min(live, k);
            hits.AsSpan(0, n).CopyTo(destination);
            return n;
        }
        finally
        {
            ArrayPool<float>.Shared.Return(projectedQuery);
            ArrayPool<Neighbor>.Shared.Return(hits);
            ArrayPool<float>.Shared.Return(vector);
        }
    }

    private sealed record SavedProjectedIndex(ulong Fingerprint, string Kind, ChunkedBuffer Data);

    private sealed class ProjectedIndex(IProjection projection, IVectorIndex index)
    {
        private readonly float[] _buffer = new float[projection.OutputDimension];

        public IProjection Projection { get; } = projection;

        public IVectorIndex Index { get; } = index;

        // One projection serves every shard of a collection and every rebuild: hash its matrix once.
        private static readonly ConditionalWeakTable<IProjection, StrongBox<ulong>> Fingerprints = [];

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

        /// <summary>Called under the shard's write lock only, so the one buffer is never shared.</summary>
        public void Upsert(int label, ReadOnlySpan<float> vector)
        {
            Projection.Project(vector, _buffer);
            Index.Upsert(label, _buffer);
        }
    }
}
