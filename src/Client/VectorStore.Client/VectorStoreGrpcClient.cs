using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;
using Proto = VectorStoreDb.Contracts.V1;

namespace VectorStoreDb.Client;

/// <summary>
/// <see cref="IVectorStoreClient"/> over gRPC to a VectorStore server. Thread-safe; create one per server and
/// reuse it (it owns an HTTP/2 connection pool). Every refusal surfaces as a <see cref="VectorStoreClientException"/>
/// with the server's code, message and faulty field.
/// </summary>
public sealed class VectorStoreGrpcClient : IVectorStoreClient
{
    /// <summary>Trailer in which the server names the input at fault.</summary>
    public const string FieldTrailer = "field";

    private const int DefaultMaxReceiveMessageSize = 64 * 1024 * 1024;

    private readonly GrpcChannel _channel;
    private readonly bool _ownsChannel;
    private readonly VectorStoreClientOptions _options;
    private readonly Metadata? _headers;
    private readonly Proto.Collections.CollectionsClient _collections;
    private readonly Proto.Documents.DocumentsClient _documents;
    private readonly Proto.Search.SearchClient _search;
    private readonly Proto.Embeddings.EmbeddingsClient _embeddings;
    private readonly Proto.Snapshots.SnapshotsClient _snapshots;

    /// <summary>Connects to a server, e.g. <c>new Uri("http://127.0.0.1:6334")</c> (plain HTTP/2) or an https address.</summary>
    public VectorStoreGrpcClient(Uri address, VectorStoreClientOptions? options = null)
        : this(CreateChannel(address, options), options, ownsChannel: true)
    {
    }

    /// <summary>Uses a channel the caller configured (TLS, handlers, retries); the caller keeps ownership of it.</summary>
    public VectorStoreGrpcClient(GrpcChannel channel, VectorStoreClientOptions? options = null)
        : this(channel, options, ownsChannel: false)
    {
    }

    private VectorStoreGrpcClient(GrpcChannel channel, VectorStoreClientOptions? options, bool ownsChannel)
    {
        ArgumentNullException.ThrowIfNull(channel);
        _channel = channel;
        _ownsChannel = ownsChannel;
        _options = options ?? new VectorStoreClientOptions();
        if (!string.IsNullOrEmpty(_options.ApiKey))
        {
            _headers = new Metadata { { "authorization", $"Bearer {_options.ApiKey}" } };
        }
        _collections = new Proto.Collections.CollectionsClient(channel);
        _documents = new Proto.Documents.DocumentsClient(channel);
        _search = new Proto.Search.SearchClient(channel);
        _embeddings = new Proto.Embeddings.EmbeddingsClient(channel);
        _snapshots = new Proto.Snapshots.SnapshotsClient(channel);
    }

    private static GrpcChannel CreateChannel(Uri address, VectorStoreClientOptions? options)
    {
        ArgumentNullException.ThrowIfNull(address);
        return GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            MaxReceiveMessageSize = options?.MaxReceiveMessageSize ?? DefaultMaxReceiveMessageSize,
            MaxSendMessageSize = null,
        });
    }

    /// <inheritdoc />
    public Task<CollectionDescription> CreateCollectionAsync(string name, CollectionOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        var request = ProtoMapping.ToProto(name, options);
        return Call(async o => ProtoMapping.FromProto(await _collections.CreateAsync(request, o)), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<CollectionDescription>> ListCollectionsAsync(CancellationToken cancellationToken = default) =>
        Call<IReadOnlyList<CollectionDescription>>(async o =>
            [.. (await _collections.ListAsync(new Proto.ListCollectionsRequest(), o)).Collections.Select(ProtoMapping.FromProto)], cancellationToken);

    /// <inheritdoc />
    public Task<CollectionDescription> GetCollectionAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Call(async o => ProtoMapping.FromProto(await _collections.GetAsync(new Proto.GetCollectionRequest { Name = name }, o)), cancellationToken);
    }

    /// <inheritdoc />
    public Task DeleteCollectionAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Call(async o => await _collections.DeleteAsync(new Proto.DeleteCollectionRequest { Name = name }, o), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> UpsertAsync(string collection, IEnumerable<DocumentWrite> documents, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(documents);
        var request = ProtoMapping.ToProto(collection, documents);
        return Call<IReadOnlyList<string>>(async o => [.. (await _documents.UpsertAsync(request, o)).Ids], cancellationToken);
    }

    /// <inheritdoc />
    public Task<VectorDocument> GetDocumentAsync(string collection, string id, bool includeVector = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(id);
        var request = new Proto.GetDocumentRequest { Collection = collection, Id = id, IncludeVector = includeVector };
        return Call(async o => ProtoMapping.FromProto(await _documents.GetAsync(request, o), includeVector), cancellationToken);
    }

    /// <inheritdoc />
    public Task<VectorDocumentPage> ListDocumentsAsync(string collection, string? after = null, int limit = 50, bool includeVectors = false, int offset = 0,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        var request = ProtoMapping.ToListRequest(collection, after, limit, includeVectors, offset);
        return Call(async o => ProtoMapping.FromProto(await _documents.ListAsync(request, o), includeVectors), cancellationToken);
    }

    /// <inheritdoc />
    public Task DeleteDocumentAsync(string collection, string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(id);
        return Call(async o => await _documents.DeleteAsync(new Proto.DeleteDocumentRequest { Collection = collection, Id = id }, o), cancellationToken);
    }

    /// <inheritdoc />
    public Task<long> CountAsync(string collection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        return Call(async o => (await _documents.CountAsync(new Proto.CountRequest { Collection = collection }, o)).Count, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<SearchHit>> QueryAsync(string collection, SearchQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(query);
        var request = ProtoMapping.ToProto(collection, query);
        return Call(async o => ProtoMapping.FromProto(await _search.QueryAsync(request, o), query.IncludeVectors), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<float[]>> EmbedAsync(IReadOnlyList<string> texts, string? encoder = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var request = ProtoMapping.ToEmbedRequest(texts, encoder);
        return Call(async o => ProtoMapping.FromProto(await _embeddings.EmbedAsync(request, o)), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ModelDescription>> ListModelsAsync(CancellationToken cancellationToken = default) =>
        Call(async o => ProtoMapping.FromProto(await _embeddings.ListModelsAsync(new Proto.ListModelsRequest(), o)), cancellationToken);

    /// <inheritdoc />
    public Task<SnapshotDescription> CreateSnapshotAsync(string collection, string? name = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        var request = ProtoMapping.ToSnapshotRequest(collection, name);
        return Call(async o => ProtoMapping.FromProto(await _snapshots.CreateAsync(request, o)), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<SnapshotDescription>> ListSnapshotsAsync(string collection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        return Call<IReadOnlyList<SnapshotDescription>>(async o =>
            [.. (await _snapshots.ListAsync(new Proto.ListSnapshotsRequest { Collection = collection }, o)).Snapshots.Select(ProtoMapping.FromProto)], cancellationToken);
    }

    /// <inheritdoc />
    public Task<CollectionDescription> RestoreSnapshotAsync(string collection, string snapshot, string target, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(target);
        var request = new Proto.RestoreSnapshotRequest { Collection = collection, Name = snapshot, Target = target };
        return Call(async o => ProtoMapping.FromProto(await _snapshots.RestoreAsync(request, o)), cancellationToken);
    }

    /// <inheritdoc />
    public Task DeleteSnapshotAsync(string collection, string snapshot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(snapshot);
        return Call(async o => await _snapshots.DeleteAsync(new Proto.DeleteSnapshotRequest { Collection = collection, Name = snapshot }, o), cancellationToken);
    }

    private async Task<T> Call<T>(Func<CallOptions, Task<T>> call, CancellationToken cancellationToken)
    {
        DateTime? deadline = _options.Timeout is { } timeout ? DateTime.UtcNow + timeout : null;
        try
        {
            return await call(new CallOptions(_headers, deadline, cancellationToken)).ConfigureAwait(false);
        }
        catch (RpcException ex)
        {
            throw ToClientException(ex);
        }
    }

    /// <summary>
    /// Translates a gRPC failure into the SDK's exception, keeping the server's message, the <c>field</c> trailer and the
    /// standard rich details (<c>google.rpc.BadRequest</c> field violations, <c>google.rpc.RetryInfo</c>).
    /// </summary>
    public static VectorStoreClientException ToClientException(RpcException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var details = RichStatusOf(exception);
        TimeSpan? retryAfter = details?.GetDetail<RetryInfo>()?.RetryDelay?.ToTimeSpan();
        var code = exception.StatusCode switch
        {
            StatusCode.InvalidArgument or StatusCode.OutOfRange => VectorStoreErrorCode.InvalidArgument,
            StatusCode.NotFound => VectorStoreErrorCode.NotFound,
            StatusCode.AlreadyExists => VectorStoreErrorCode.AlreadyExists,
            // RESOURCE_EXHAUSTED is both "too large" and "busy, retry": the server's error-code trailer (or a RetryInfo) tells them apart.
            StatusCode.ResourceExhausted => exception.Trailers.GetValue("error-code") == "busy" || retryAfter is not null
                ? VectorStoreErrorCode.Busy : VectorStoreErrorCode.LimitExceeded,
            StatusCode.FailedPrecondition or StatusCode.Aborted => VectorStoreErrorCode.FailedPrecondition,
            StatusCode.Unavailable => VectorStoreErrorCode.Unavailable,
            StatusCode.Unauthenticated => VectorStoreErrorCode.Unauthenticated,
            StatusCode.PermissionDenied => VectorStoreErrorCode.PermissionDenied,
            StatusCode.Cancelled => VectorStoreErrorCode.Cancelled,
            StatusCode.DeadlineExceeded => VectorStoreErrorCode.DeadlineExceeded,
            _ => VectorStoreErrorCode.Unknown,
        };
        string message = string.IsNullOrEmpty(exception.Status.Detail) ? $"The server refused the call ({exception.StatusCode})." : exception.Status.Detail;
        List<VectorStoreFieldViolation>? violations = details?.GetDetail<BadRequest>()?.FieldViolations
            .Select(v => new VectorStoreFieldViolation(v.Field, v.Description)).ToList();
        string? field = exception.Trailers.GetValue(FieldTrailer);
        field = string.IsNullOrEmpty(field) ? violations?.FirstOrDefault()?.Field : field;
        return new VectorStoreClientException(code, message, field, exception, violations, retryAfter);
    }

    // Rich details are optional (proxies and older servers may not send them) and never worth failing over when garbled.
    private static Google.Rpc.Status? RichStatusOf(RpcException exception)
    {
        try
        {
            return exception.GetRpcStatus();
        }
        catch (Google.Protobuf.InvalidProtocolBufferException)
        {
            return null;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsChannel)
        {
            _channel.Dispose();
        }
    }
}
