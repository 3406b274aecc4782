using System.Net.Sockets;
using Google.Rpc;
using Grpc.Core;
using Grpc.Net.Client;
using Proto = VectorStoreDb.Contracts.V1;

namespace VectorStoreDb.Client;

/// <summary>
/// <see cref="IVectorStoreClient"/> over gRPC to a VectorStore server, or to several nodes of a cluster. Thread-safe;
/// create one per server (or cluster) and reuse it (it owns an HTTP/2 connection pool per node). Every refusal surfaces
/// as a <see cref="VectorStoreClientException"/> with the server's code, message and faulty field.
/// </summary>
/// <remarks>
/// With several addresses, calls start on the nodes in turn (round robin) and move to the next node when one fails
/// in a way another node can fix:
/// <list type="bullet">
/// <item>the connection could not be made (the request never left this process): every call moves on;</item>
/// <item>the node answered UNAVAILABLE, or the connection broke after the request was sent: reads (get, list, count,
/// query, embed, list collections/models/snapshots) and upserts whose documents all carry an id (an upsert by id is
/// idempotent) move on; other writes (upserts that let the server assign ids, deletes, create, snapshots) do not,
/// because the first node may have applied them and a retry could apply them twice or report a false conflict.</item>
/// </list>
/// Other statuses (bad input, not found, deadline, cancellation) are answers, not node failures, and are never retried.
/// </remarks>
public sealed class VectorStoreGrpcClient : IVectorStoreClient
{
    /// <summary>Trailer in which the server names the input at fault.</summary>
    public const string FieldTrailer = "field";

    private const int DefaultMaxReceiveMessageSize = 64 * 1024 * 1024;

    private readonly NodeConnection[] _nodes;
    private readonly VectorStoreClientOptions _options;
    private readonly Metadata? _headers;
    private int _nextNode = -1;

    /// <summary>Connects to a server, e.g. <c>new Uri("http://127.0.0.1:6334")</c> (plain HTTP/2) or an https address.</summary>
    public VectorStoreGrpcClient(Uri address, VectorStoreClientOptions? options = null)
        : this([address], options)
    {
    }

    /// <summary>
    /// Connects to the nodes of a cluster (any node serves every call): calls are spread over them in turn and move
    /// to another node when one is down (see the remarks on this class for which calls are retried).
    /// </summary>
    public VectorStoreGrpcClient(IEnumerable<Uri> addresses, VectorStoreClientOptions? options = null)
        : this(CreateNodes(addresses, options), options)
    {
    }

    /// <summary>Uses a channel the caller configured (TLS, handlers, retries); the caller keeps ownership of it.</summary>
    public VectorStoreGrpcClient(GrpcChannel channel, VectorStoreClientOptions? options = null)
        : this([new NodeConnection(ArgumentNullChecked(channel).Target, channel, ownsChannel: false)], options)
    {
    }

    private VectorStoreGrpcClient(NodeConnection[] nodes, VectorStoreClientOptions? options)
    {
        _nodes = nodes;
        _options = options ?? new VectorStoreClientOptions();
        if (!string.IsNullOrEmpty(_options.ApiKey))
        {
            _headers = new Metadata { { "authorization", $"Bearer {_options.ApiKey}" } };
        }
    }

    private static GrpcChannel ArgumentNullChecked(GrpcChannel channel)
    {
        ArgumentNullException.ThrowIfNull(channel);
        return channel;
    }

    private static NodeConnection[] CreateNodes(IEnumerable<Uri> addresses, VectorStoreClientOptions? options)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        Uri[] list = [.. addresses];
        if (list.Length == 0)
        {
            throw new ArgumentException("At least one node address is needed.", nameof(addresses));
        }
        return [.. list.Select(address =>
        {
            ArgumentNullException.ThrowIfNull(address, nameof(addresses));
            var channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
            {
                MaxReceiveMessageSize = options?.MaxReceiveMessageSize ?? DefaultMaxReceiveMessageSize,
                MaxSendMessageSize = null,
            });
            return new NodeConnection(address.ToString(), channel, ownsChannel: true);
        })];
    }

    /// <inheritdoc />
    public Task<CollectionDescription> CreateCollectionAsync(string name, CollectionOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        var request = ProtoMapping.ToProto(name, options);
        return Write(async (n, o) => ProtoMapping.FromProto(await n.Collections.CreateAsync(request, o)), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<CollectionDescription>> ListCollectionsAsync(CancellationToken cancellationToken = default) =>
        Read<IReadOnlyList<CollectionDescription>>(async (n, o) =>
            [.. (await n.Collections.ListAsync(new Proto.ListCollectionsRequest(), o)).Collections.Select(ProtoMapping.FromProto)], cancellationToken);

    /// <inheritdoc />
    public Task<CollectionDescription> GetCollectionAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Read(async (n, o) => ProtoMapping.FromProto(await n.Collections.GetAsync(new Proto.GetCollectionRequest { Name = name }, o)), cancellationToken);
    }

    /// <inheritdoc />
    public Task DeleteCollectionAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        return Write(async (n, o) => await n.Collections.DeleteAsync(new Proto.DeleteCollectionRequest { Name = name }, o), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<string>> UpsertAsync(string collection, IEnumerable<DocumentWrite> documents, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(documents);
        var request = ProtoMapping.ToProto(collection, documents);
        // An upsert by id sets the same documents however often it runs; one that lets the server assign ids does not.
        var rule = request.Documents.All(d => !string.IsNullOrEmpty(d.Id)) ? RetryRule.Idempotent : RetryRule.OnlyUnsent;
        return Call<IReadOnlyList<string>>(async (n, o) => [.. (await n.Documents.UpsertAsync(request, o)).Ids], rule, cancellationToken);
    }

    /// <inheritdoc />
    public Task<VectorDocument> GetDocumentAsync(string collection, string id, bool includeVector = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(id);
        var request = new Proto.GetDocumentRequest { Collection = collection, Id = id, IncludeVector = includeVector };
        return Read(async (n, o) => ProtoMapping.FromProto(await n.Documents.GetAsync(request, o), includeVector), cancellationToken);
    }

    /// <inheritdoc />
    public Task<VectorDocumentPage> ListDocumentsAsync(string collection, string? after = null, int limit = 50, bool includeVectors = false, int offset = 0,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        var request = ProtoMapping.ToListRequest(collection, after, limit, includeVectors, offset);
        return Read(async (n, o) => ProtoMapping.FromProto(await n.Documents.ListAsync(request, o), includeVectors), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<VectorDocument>> GetDocumentsAsync(string collection, IEnumerable<string> ids, bool includeVectors = false,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(ids);
        var request = ProtoMapping.ToBatchGetRequest(collection, ids, includeVectors);
        return Read(async (n, o) => ProtoMapping.FromProto(await n.Documents.GetBatchAsync(request, o), includeVectors), cancellationToken);
    }

    /// <inheritdoc />
    public Task<ScrollResult> ScrollAsync(string collection, ScrollQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(query);
        var request = ProtoMapping.ToProto(collection, query);
        return Read(async (n, o) => ProtoMapping.FromProto(await n.Documents.ScrollAsync(request, o), query.IncludeVectors), cancellationToken);
    }

    /// <inheritdoc />
    public Task DeleteDocumentAsync(string collection, string id, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(id);
        return Write(async (n, o) => await n.Documents.DeleteAsync(new Proto.DeleteDocumentRequest { Collection = collection, Id = id }, o), cancellationToken);
    }

    /// <inheritdoc />
    public Task<long> CountAsync(string collection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        return Read(async (n, o) => (await n.Documents.CountAsync(new Proto.CountRequest { Collection = collection }, o)).Count, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<SearchHit>> QueryAsync(string collection, SearchQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(query);
        var request = ProtoMapping.ToProto(collection, query);
        return Read(async (n, o) => ProtoMapping.FromProto(await n.Search.QueryAsync(request, o), query.IncludeVectors), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<IReadOnlyList<SearchHit>>> QueryBatchAsync(string collection, IReadOnlyList<SearchQuery> queries, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(queries);
        var request = ProtoMapping.ToProto(collection, queries);
        return Read(async (n, o) => ProtoMapping.FromProto(await n.Search.QueryBatchAsync(request, o), queries), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<float[]>> EmbedAsync(IReadOnlyList<string> texts, string? encoder = null, CancellationToken cancellationToken = default) =>
        EmbedAsync(texts, encoder, EmbeddingInputType.Document, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<float[]>> EmbedAsync(IReadOnlyList<string> texts, string? encoder, EmbeddingInputType inputType, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var request = ProtoMapping.ToEmbedRequest(texts, encoder, inputType);
        return Read(async (n, o) => ProtoMapping.FromProto(await n.Embeddings.EmbedAsync(request, o)), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ModelDescription>> ListModelsAsync(CancellationToken cancellationToken = default) =>
        Read(async (n, o) => ProtoMapping.FromProto(await n.Embeddings.ListModelsAsync(new Proto.ListModelsRequest(), o)), cancellationToken);

    /// <inheritdoc />
    public Task<SnapshotDescription> CreateSnapshotAsync(string collection, string? name = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        var request = ProtoMapping.ToSnapshotRequest(collection, name);
        return Write(async (n, o) => ProtoMapping.FromProto(await n.Snapshots.CreateAsync(request, o)), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<SnapshotDescription>> ListSnapshotsAsync(string collection, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        return Read<IReadOnlyList<SnapshotDescription>>(async (n, o) =>
            [.. (await n.Snapshots.ListAsync(new Proto.ListSnapshotsRequest { Collection = collection }, o)).Snapshots.Select(ProtoMapping.FromProto)], cancellationToken);
    }

    /// <inheritdoc />
    public Task<CollectionDescription> RestoreSnapshotAsync(string collection, string snapshot, string target, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(target);
        var request = new Proto.RestoreSnapshotRequest { Collection = collection, Name = snapshot, Target = target };
        return Write(async (n, o) => ProtoMapping.FromProto(await n.Snapshots.RestoreAsync(request, o)), cancellationToken);
    }

    /// <inheritdoc />
    public Task DeleteSnapshotAsync(string collection, string snapshot, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(collection);
        ArgumentNullException.ThrowIfNull(snapshot);
        return Write(async (n, o) => await n.Snapshots.DeleteAsync(new Proto.DeleteSnapshotRequest { Collection = collection, Name = snapshot }, o), cancellationToken);
    }

    /// <inheritdoc />
    public Task<ClusterStatusDescription> GetClusterStatusAsync(CancellationToken cancellationToken = default) =>
        Read(async (n, o) => ProtoMapping.FromProto(await n.Cluster.StatusAsync(new Proto.ClusterStatusRequest(), o)), cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<ReplicaMoveDescription>> DrainNodeAsync(string node, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(node);
        // Not retried on another node once sent: the first may be moving replicas already.
        return Write(async (n, o) => ProtoMapping.FromProto(await n.Cluster.DrainAsync(new Proto.DrainNodeRequest { Node = node }, o)), cancellationToken);
    }

    /// <inheritdoc />
    public Task UndrainNodeAsync(string node, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(node);
        // Idempotent (it only clears a mark), so another node may repeat it.
        return Read(async (n, o) => await n.Cluster.UndrainAsync(new Proto.UndrainNodeRequest { Node = node }, o), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<ReplicaMoveDescription>> RebalanceAsync(CancellationToken cancellationToken = default) =>
        Write(async (n, o) => ProtoMapping.FromProto(await n.Cluster.RebalanceAsync(new Proto.RebalanceRequest(), o)), cancellationToken);

    private Task<T> Read<T>(Func<NodeConnection, CallOptions, Task<T>> call, CancellationToken cancellationToken) =>
        Call(call, RetryRule.Idempotent, cancellationToken);

    private Task<T> Write<T>(Func<NodeConnection, CallOptions, Task<T>> call, CancellationToken cancellationToken) =>
        Call(call, RetryRule.OnlyUnsent, cancellationToken);

    private async Task<T> Call<T>(Func<NodeConnection, CallOptions, Task<T>> call, RetryRule rule, CancellationToken cancellationToken)
    {
        DateTime? deadline = _options.Timeout is { } timeout ? DateTime.UtcNow + timeout : null;
        var options = new CallOptions(_headers, deadline, cancellationToken);
        if (_nodes.Length == 1)
        {
            try
            {
                return await call(_nodes[0], options).ConfigureAwait(false);
            }
            catch (RpcException ex)
            {
                throw ToClientException(ex);
            }
        }

        List<string>? failures = null;
        RpcException? last = null;
        foreach (var node in NodesInTurn())
        {
            try
            {
                var result = await call(node, options).ConfigureAwait(false);
                node.MarkUp();
                return result;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable && !cancellationToken.IsCancellationRequested)
            {
                bool unsent = NeverReachedTheServer(ex);
                node.MarkDown(_options.NodeCooldown);
                if (!unsent && rule == RetryRule.OnlyUnsent)
                {
                    throw ToClientException(ex);
                }
                last = ex;
                (failures ??= []).Add($"{node.Address} ({(unsent ? "unreachable" : "unavailable")}: {FailureReason(ex)})");
            }
            catch (RpcException ex)
            {
                throw ToClientException(ex);
            }
        }
        throw new VectorStoreClientException(VectorStoreErrorCode.Unavailable,
            $"No VectorStore node could serve the call: {string.Join("; ", failures!)}.", inner: last);
    }

    /// <summary>Every node once, starting at the next one in turn; nodes that failed lately go last.</summary>
    private IEnumerable<NodeConnection> NodesInTurn()
    {
        int first = (int)((uint)Interlocked.Increment(ref _nextNode) % (uint)_nodes.Length);
        var later = new List<NodeConnection>();
        for (int i = 0; i < _nodes.Length; i++)
        {
            var node = _nodes[(first + i) % _nodes.Length];
            if (node.SeemsDown)
            {
                later.Add(node);
            }
            else
            {
                yield return node;
            }
        }
        foreach (var node in later)
        {
            yield return node;
        }
    }

    /// <summary>
    /// True when the connection could not be opened, so the server cannot have seen the request. A connection that
    /// broke later, or an UNAVAILABLE answer, might follow a write the server applied.
    /// </summary>
    private static bool NeverReachedTheServer(RpcException exception)
    {
        // The channel's subchannel reports a failed connect with the bare SocketException; a connection that broke
        // during a call arrives wrapped (HttpRequestException / IOException) and is not counted as unsent.
        return exception.Status.DebugException is SocketException
            or HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError };
    }

    private static string FailureReason(RpcException exception) =>
        exception.Status.DebugException?.GetBaseException().Message is { Length: > 0 } reason ? reason
        : string.IsNullOrEmpty(exception.Status.Detail) ? exception.StatusCode.ToString() : exception.Status.Detail;

    /// <summary>Which failed calls may be sent again to another node.</summary>
    private enum RetryRule
    {
        /// <summary>Writes: only when the request never reached a server.</summary>
        OnlyUnsent,

        /// <summary>Reads and idempotent writes: also after UNAVAILABLE or a broken connection.</summary>
        Idempotent,
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
        foreach (var node in _nodes)
        {
            node.Dispose();
        }
    }
}
