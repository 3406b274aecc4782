using System.Buffers;
using VectorStore.Embedding.Projection;
using VectorStore.Engine.Filtering;
using VectorStore.Index;

namespace VectorStore.Engine;

/// <summary>
/// Projection support: beside the full-vector index (which stays the durable copy, saved in checkpoints) a
/// projected shard keeps a second index over the projected vectors. It is derived state, rebuilt from the
/// full vectors whenever the shard loads, so checkpoints and snapshots keep their format.
/// </summary>
internal sealed partial class Shard
{
    private volatile ProjectedIndex? _projected;

    /// <summary>The projection the index holds, or null when searches run over the full vectors.</summary>
    public IProjection? Projection => _projected?.Projection;

    /// <summary>Switches the shard to <paramref name="projection"/> (null: back to full vectors), rebuilding the projected index.</summary>
    public void SetProjection(IProjection? projection)
    {
        _writeLock.Wait();
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var old = _projected;
            _projected = projection is null ? null : Build(projection);
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

    private ProjectedIndex Build(IProjection projection)
    {
        var projected = new ProjectedIndex(projection, new ExactIndex(projection.OutputDimension, ProjectedMetric(_settings.Metric)));
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

    private sealed class ProjectedIndex(IProjection projection, IVectorIndex index)
    {
        private readonly float[] _buffer = new float[projection.OutputDimension];

        public IProjection Projection { get; } = projection;

        public IVectorIndex Index { get; } = index;

        /// <summary>Called under the shard's write lock only, so the one buffer is never shared.</summary>
        public void Upsert(int label, ReadOnlySpan<float> vector)
        {
            Projection.Project(vector, _buffer);
            Index.Upsert(label, _buffer);
        }
    }
}
