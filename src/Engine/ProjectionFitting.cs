using VectorStoreDb.Engine.Projection;
using VectorStoreDb.Engine.Storage;

namespace VectorStoreDb.Engine;

/// <summary>
/// Sets up a collection's projection: random at once (it needs no data), PCA once enough vectors exist, and a PCA
/// refit on request. Holds only the lock that keeps one fit at a time; the projection itself lives in the shards.
/// </summary>
internal sealed class ProjectionFitting(Collection collection, IStorageProvider storage)
{
    private readonly SemaphoreSlim _fitLock = new(1, 1);

    /// <summary>The projection the shards start with: random at once, a fitted PCA when one was saved, else none.</summary>
    public static IProjection? Load(CollectionSettings settings, IStorageProvider storage)
    {
        IProjection? projection = null;
        if (settings.Projection == ProjectionKinds.Random)
        {
            projection = RandomProjection.Create(settings.Dimension, settings.IndexDimension, settings.ProjectionSeed);
        }
        else if (settings.Projection == ProjectionKinds.Pca && storage.ReadCollectionFile(settings.Name, Collection.ProjectionFile) is { } saved)
        {
            using var stream = new MemoryStream(saved, writable: false);
            projection = ProjectionSerializer.Read(stream);
            if (projection.InputDimension != settings.Dimension || projection.OutputDimension != settings.IndexDimension)
            {
                throw new InvalidDataException($"Saved projection of collection '{settings.Name}' maps {projection.InputDimension} -> {projection.OutputDimension}; the collection needs {settings.Dimension} -> {settings.IndexDimension}.");
            }
        }
        return projection;
    }

    /// <summary>PCA fits itself the first time the collection reaches its sample size.</summary>
    public async Task AfterWriteAsync(CancellationToken cancellationToken)
    {
        if (collection.Settings.Projection == ProjectionKinds.Pca && collection.Projection is null && collection.Count >= collection.Settings.PcaSampleSize)
        {
            await FitPcaAsync(onlyIfUnfitted: true, cancellationToken);
        }
    }

    /// <summary>
    /// Fits the PCA on up to <see cref="CollectionSettings.PcaSampleSize"/> stored full vectors, persists it and
    /// rebuilds every shard's projected index from the full vectors. Returns the number of vectors fitted on.
    /// </summary>
    public Task<int> RefitAsync(CancellationToken cancellationToken)
    {
        if (collection.Settings.Projection != ProjectionKinds.Pca)
        {
            throw VectorStoreException.Invalid("projection", $"collection '{collection.Settings.Name}' uses projection '{collection.Settings.Projection}'; only a pca projection is fitted.");
        }
        if (collection.Count < 2)
        {
            throw new VectorStoreException(ErrorCode.FailedPrecondition, $"Collection '{collection.Settings.Name}' holds {collection.Count} documents; a PCA needs at least 2.", "projection");
        }
        return FitPcaAsync(onlyIfUnfitted: false, cancellationToken);
    }

    private async Task<int> FitPcaAsync(bool onlyIfUnfitted, CancellationToken cancellationToken)
    {
        await _fitLock.WaitAsync(cancellationToken);
        try
        {
            if (onlyIfUnfitted && collection.Projection is not null)
            {
                return 0;
            }
            // Spread the sample over shards in proportion to their size.
            long total = Math.Max(1, collection.Count);
            var sample = new List<float[]>(collection.Settings.PcaSampleSize);
            foreach (var shard in collection.Shards)
            {
                int share = (int)Math.Ceiling((double)collection.Settings.PcaSampleSize * shard.Count / total);
                sample.AddRange(shard.SampleVectors(Math.Min(share, collection.Settings.PcaSampleSize - sample.Count)));
            }
            if (sample.Count < 2)
            {
                return 0;
            }
            var projection = await Task.Run(() => PcaProjection.Fit(sample, collection.Settings.IndexDimension), CancellationToken.None);
            using (var buffer = new MemoryStream())
            {
                projection.Write(buffer);
                storage.WriteCollectionFile(collection.Settings.Name, Collection.ProjectionFile, buffer.ToArray());
            }
            foreach (var shard in collection.Shards)
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
