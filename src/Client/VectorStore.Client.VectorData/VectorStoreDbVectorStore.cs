using System.Runtime.CompilerServices;
using Microsoft.Extensions.VectorData;

namespace VectorStoreDb.Client.VectorData;

/// <summary>
/// VectorStore as a Microsoft.Extensions.VectorData <see cref="VectorStore"/>, over any
/// <see cref="IVectorStoreClient"/>: <c>VectorStoreGrpcClient</c> for a server, <c>EmbeddedVectorStore</c> in-process.
/// </summary>
public sealed class VectorStoreDbVectorStore : VectorStore
{
    private readonly IVectorStoreClient _client;
    private readonly VectorStoreDbVectorStoreOptions _options;
    private readonly VectorStoreMetadata _metadata = new() { VectorStoreSystemName = VectorStoreDbCollection<string, object>.SystemName };

    /// <summary>Wraps <paramref name="client"/>, which stays the caller's to dispose.</summary>
    /// <param name="client">The remote or embedded client.</param>
    /// <param name="options">The default embedding generator and server encoder for the collections handed out.</param>
    public VectorStoreDbVectorStore(IVectorStoreClient client, VectorStoreDbVectorStoreOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        _client = client;
        _options = options ?? new VectorStoreDbVectorStoreOptions();
    }

    /// <inheritdoc />
    public override VectorStoreCollection<TKey, TRecord> GetCollection<TKey, TRecord>(string name, VectorStoreCollectionDefinition? definition = null) =>
        new VectorStoreDbCollection<TKey, TRecord>(_client, name, CollectionOptions(definition));

    /// <inheritdoc />
    public override VectorStoreCollection<object, Dictionary<string, object?>> GetDynamicCollection(string name, VectorStoreCollectionDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return new VectorStoreDbDynamicCollection(_client, name, CollectionOptions(definition));
    }

    private VectorStoreDbCollectionOptions CollectionOptions(VectorStoreCollectionDefinition? definition) => new()
    {
        Definition = definition,
        EmbeddingGenerator = _options.EmbeddingGenerator,
        Encoder = _options.Encoder,
    };

    /// <inheritdoc />
    public override async IAsyncEnumerable<string> ListCollectionNamesAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        IReadOnlyList<CollectionDescription> collections;
        try
        {
            collections = await _client.ListCollectionsAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (VectorStoreClientException e)
        {
            throw Wrap(e, "ListCollectionNames");
        }
        foreach (var collection in collections)
        {
            yield return collection.Name;
        }
    }

    /// <inheritdoc />
    public override async Task<bool> CollectionExistsAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        try
        {
            await _client.GetCollectionAsync(name, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (VectorStoreClientException e) when (e.Code == VectorStoreErrorCode.NotFound)
        {
            return false;
        }
        catch (VectorStoreClientException e)
        {
            throw Wrap(e, "CollectionExists", name);
        }
    }

    /// <inheritdoc />
    public override async Task EnsureCollectionDeletedAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        try
        {
            await _client.DeleteCollectionAsync(name, cancellationToken).ConfigureAwait(false);
        }
        catch (VectorStoreClientException e) when (e.Code == VectorStoreErrorCode.NotFound)
        {
        }
        catch (VectorStoreClientException e)
        {
            throw Wrap(e, "EnsureCollectionDeleted", name);
        }
    }

    /// <inheritdoc />
    public override object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        return serviceKey is not null ? null
            : serviceType == typeof(VectorStoreMetadata) ? _metadata
            : serviceType == typeof(IVectorStoreClient) ? _client
            : serviceType.IsInstanceOfType(this) ? this
            : null;
    }

    private static VectorStoreException Wrap(VectorStoreClientException exception, string operation, string? collection = null) =>
        new(exception.Message, exception)
        {
            VectorStoreSystemName = VectorStoreDbCollection<string, object>.SystemName,
            CollectionName = collection,
            OperationName = operation,
        };
}
