using System.Buffers;
using VectorStoreDb.Engine.Projection;
using VectorStoreDb.Engine.Storage;
using VectorStoreDb.Engine.Storage.Format;
using VectorStoreDb.Index;

namespace VectorStoreDb.Engine.Shards;

/// <summary>
/// Projection support: beside the full vectors (<see cref="VectorIndexComponent"/>, used for rescoring and exact
/// scans) a projected shard keeps an index of the collection's kind over the projected vectors. Checkpoints save
/// that index with the fingerprint of its projection, so a restart loads the graph instead of rebuilding it; a
/// checkpoint whose projection differs (or has none) is rebuilt from the full vectors.
/// </summary>
internal sealed class ProjectedIndexComponent(CollectionSettings settings, VectorIndexComponent vectors, DocumentTable documents) : IShardComponent
{
    private volatile ProjectedIndex? _projected;

    /// <summary>Labels written while <see cref="Rebuild"/> builds outside the write lock (null otherwise); touched under the write lock only.</summary>
    private HashSet<int>? _rebuildTouched;

    /// <summary>The projected index searches use now, or null when they run over the full vectors.</summary>
    public ProjectedIndex? Current => _projected;

    /// <summary>True when the projected index came whole from the last loaded checkpoint instead of being rebuilt.</summary>
    public bool LoadedFromCheckpoint { get; private set; }

    /// <summary>
    /// Cosine vectors are unit length, so Euclidean order equals cosine order, and Euclidean distances are what JL
    /// and PCA preserve (PCA centres the data, which would skew inner products). Dot products stay dot products.
    /// </summary>
    private static Metric ProjectedMetric(Metric metric) => metric == Metric.Dot ? Metric.Dot : Metric.L2;

    /// <summary>Starts with an empty index under <paramref name="projection"/> (before recovery, so replay and checkpoints fill it).</summary>
    public void Start(IProjection projection) => _projected = Empty(projection);

    public ProjectedIndex Empty(IProjection projection) =>
        new(projection, IndexFactory.CreateProjected(settings, projection.OutputDimension, ProjectedMetric(settings.Metric)));

    public void ApplyUpsert(in ShardWrite write)
    {
        var projected = _projected;
        var chunks = write.Document.Chunks;
        int count = chunks?.Length ?? 1;
        for (int i = 0; i < count; i++)
        {
            int label = i == 0 ? write.Label : chunks![i].Label;
            projected?.Upsert(label, write.VectorOf(i));
            _rebuildTouched?.Add(label);
        }
    }

    public void ApplyRemove(int label)
    {
        _projected?.Index.Remove(label);
        _rebuildTouched?.Add(label);
    }

    public void Reset()
    {
        if (_projected is { } current)
        {
            _projected = Empty(current.Projection);
            current.Index.Dispose();
        }
    }

    public void Capture(ShardImageBuilder image)
    {
        if (_projected is { } projected)
        {
            var data = new ChunkedBuffer();
            projected.Index.Save(data);
            image.Projected = new SavedProjectedIndex(projected.Fingerprint, projected.Index.Kind, data);
        }
    }

    /// <summary>Takes the checkpoint's projected index when it was built under this projection; otherwise rebuilds from the (already loaded) full vectors.</summary>
    public void Load(ShardCheckpoint checkpoint)
    {
        if (_projected is not { } current)
        {
            return;
        }
        if (checkpoint.Projected is { } saved && saved.Fingerprint == current.Fingerprint && saved.Index.Dimension == current.Projection.OutputDimension
            && saved.Index.Metric == ProjectedMetric(settings.Metric) && saved.Index.Kind == current.Index.Kind && saved.Index.Count == vectors.Index.Count)
        {
            checkpoint.Projected = null;
            _projected = new ProjectedIndex(current.Projection, saved.Index);
            current.Index.Dispose();
            LoadedFromCheckpoint = true;
            return;
        }
        _projected = Build(current.Projection, documents.ByLabel);
        current.Index.Dispose();
    }

    /// <summary>A new projected index over every live label of <paramref name="table"/> (chunks included: each is searched like a document).</summary>
    private ProjectedIndex Build(IProjection projection, StoredDocument?[] table)
    {
        var built = Empty(projection);
        var buffer = new float[vectors.Index.Dimension];
        // A label rewritten while it is read here may be read torn; during a rebuild it is in the touched set and redone.
        for (int label = 0; label < table.Length; label++)
        {
            if (table[label] is not null && vectors.Index.TryGetVector(label, buffer))
            {
                built.Upsert(label, buffer);
            }
        }
        return built;
    }

    /// <summary>
    /// Switches to <paramref name="projection"/> (null: back to full vectors). The new index (a graph build, minutes for
    /// millions of vectors) is built from the table as it is while writes go on; the labels written meanwhile are
    /// recorded and redone under the write lock just before the swap, so writes pause only for that catch-up.
    /// <paramref name="underWriteLock"/> runs an action under the shard's write lock (and refuses once it is disposed).
    /// </summary>
    public void Rebuild(IProjection? projection, Action<Action> underWriteLock, Action? beforeCatchUp)
    {
        if (projection is null)
        {
            underWriteLock(() => Swap(null));
            return;
        }
        var touched = new HashSet<int>();
        StoredDocument?[] table = [];
        underWriteLock(() =>
        {
            _rebuildTouched = touched;
            table = documents.ByLabel;
        });
        ProjectedIndex? built = null;
        try
        {
            var fresh = Build(projection, table);
            built = fresh;
            beforeCatchUp?.Invoke();
            underWriteLock(() =>
            {
                var buffer = new float[vectors.Index.Dimension];
                foreach (int label in touched)
                {
                    if (documents.Get(label) is not null && vectors.Index.TryGetVector(label, buffer))
                    {
                        fresh.Upsert(label, buffer);
                    }
                    else
                    {
                        fresh.Index.Remove(label);
                    }
                }
                _rebuildTouched = null;
                Swap(fresh);
                built = null;
            });
        }
        finally
        {
            built?.Index.Dispose();
            if (_rebuildTouched == touched)
            {
                try
                {
                    underWriteLock(() => _rebuildTouched = null);
                }
                catch (ObjectDisposedException)
                {
                    // The shard is gone, and its writes with it.
                }
            }
        }
    }

    private void Swap(ProjectedIndex? projected)
    {
        var old = _projected;
        _projected = projected;
        old?.Index.Dispose();
    }

    /// <summary>
    /// Searches the projected index for candidates, then scores them on the full vectors. Rents its buffers, so a
    /// query allocates nothing here.
    /// </summary>
    public int Search(ProjectedIndex projected, ReadOnlySpan<float> query, Span<Neighbor> destination, SearchParameters parameters, ILabelFilter? filter)
    {
        var index = vectors.Index;
        int k = destination.Length;
        bool rescore = settings.Rescore;
        // Enough candidates that the full-vector rescoring can repair the projection's reordering; a query's ef
        // raises the count (random projections need many more than PCA, see notes/encoder.md).
        int candidates = rescore ? Math.Max(Math.Max(k * 4, 40), parameters.Ef) : k;
        int dimension = projected.Projection.OutputDimension;
        var projectedQuery = ArrayPool<float>.Shared.Rent(dimension);
        var hits = ArrayPool<Neighbor>.Shared.Rent(candidates);
        var vector = ArrayPool<float>.Shared.Rent(index.Dimension);
        try
        {
            projected.Projection.Project(query, projectedQuery.AsSpan(0, dimension));
            int found = projected.Index.Search(projectedQuery.AsSpan(0, dimension), hits.AsSpan(0, candidates),
                parameters with { Ef = Math.Max(parameters.Ef, candidates) }, filter);
            // Scores always come from the full vectors; without rescoring the projected order is kept.
            var full = vector.AsSpan(0, index.Dimension);
            int live = 0;
            for (int i = 0; i < found; i++)
            {
                if (index.TryGetVector(hits[i].Label, full))
                {
                    hits[live++] = new Neighbor(hits[i].Label, settings.Metric.Distance(query, full));
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

    public void Dispose() => _projected?.Index.Dispose();
}
