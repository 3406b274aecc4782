using VectorStoreDb.Embedding.Projection;

namespace VectorStoreDb.Engine;

/// <summary>Sets up the collection's projection: random at once (it needs no data), PCA once enough vectors exist.</summary>
internal sealed partial class Collection
{
    /// <summary>Where a fitted PCA is kept, beside the collection's settings.</summary>
    internal const string ProjectionFile = "projection.bin";

    private readonly SemaphoreSlim _fitLock = new(1, 1);

    /// <summary>The projection its index holds, or null while searches run over full vectors (none, or PCA not fitted yet).</summary>
    public IProjection? Projection => _shards[0].Projection;

    /// <summary>The projection the shards start with: random at once, a fitted PCA when one was saved, else none.</summary>
    private IProjection? LoadProjection()
    {
        IProjection? projection = null;
        if (Settings.Projection == ProjectionKinds.Random)
        {
            projection = RandomProjection.Create(Settings.Dimension, Settings.IndexDimension, Settings.ProjectionSeed);
        }
        else if (Settings.Projection == ProjectionKinds.Pca && _storage.ReadCollectionFile(Settings.Name, ProjectionFile) is { } saved)
        {
            using var stream = new MemoryStream(saved, writable: false);
            projection = ProjectionSerializer.Read(stream);
            if (projection.InputDimension != Settings.Dimension || projection.OutputDimension != Settings.IndexDimension)
            {
                throw new InvalidDataException($"Saved projection of collection '{Settings.Name}' maps {projection.InputDimension} -> {projection.OutputDimension}; the collection needs {Settings.Dimension} -> {Settings.IndexDimension}.");
            }
        }
        return projection;
    }

    /// <summary>PCA fits itself the first time the collection reaches its sample size.</summary>
    private async Task AfterWriteAsync(CancellationToken cancellationToken)
    {
        if (Settings.Projection == ProjectionKinds.Pca && Projection is null && Count >= Settings.PcaSampleSize)
        {
            await FitPcaAsync(onlyIfUnfitted: true, cancellationToken);
        }
    }

    /// <summary>
    /// Fits the PCA on up to <see cref="CollectionSettings.PcaSampleSize"/> stored full vectors, persists it and
    /// rebuilds every shard's projected index from the full vectors. Returns the number of vectors fitted on.
    /// </summary>
    public Task<int> RefitProjectionAsync(CancellationToken cancellationToken)
    {
        if (Settings.Projection != ProjectionKinds.Pca)
        {
            throw VectorStoreException.Invalid("projection", $"collection '{Settings.Name}' uses projection '{Settings.Projection}'; only a pca projection is fitted.");
        }
        if (Count < 2)
        {
            throw new VectorStoreException(ErrorCode.FailedPrecondition, $"Collection '{Settings.Name}' holds {Count} documents; a PCA needs at least 2.", "projection");
        }
        return FitPcaAsync(onlyIfUnfitted: false, cancellationToken);
    }

    private async Task<int> FitPcaAsync(bool onlyIfUnfitted, CancellationToken cancellationToken)
    {
        await _fitLock.WaitAsync(cancellationToken);
        try
        {
            if (onlyIfUnfitted && Projection is not null)
            {
                return 0;
            }
            // Spread the sample over shards in proportion to their size.
            long total = Math.Max(1, Count);
            var sample = new List<float[]>(Settings.PcaSampleSize);
            foreach (var shard in _shards)
            {
                int share = (int)Math.Ceiling((double)Settings.PcaSampleSize * shard.Count / total);
                sample.AddRange(shard.SampleVectors(Math.Min(share, Settings.PcaSampleSize - sample.Count)));
            }
            if (sample.Count < 2)
            {
                return 0;
            }
            var projection = await Task.Run(() => PcaProjection.Fit(sample, Settings.IndexDimension), CancellationToken.None);
            using (var buffer = new MemoryStream())
            {
                projection.Write(buffer);
                _storage.WriteCollectionFile(Settings.Name, ProjectionFile, buffer.ToArray());
            }
            foreach (var shard in _shards)
            {
                shard.SetProjection(projection);
            }
            return sample.Count;
        }
        finally
        {
            _fitLock.Release();
        }
    }
}
