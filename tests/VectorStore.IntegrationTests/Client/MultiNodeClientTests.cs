using System.Net;
using System.Net.Sockets;
using VectorStoreDb.Client;

namespace VectorStoreDb.IntegrationTests.Client;

/// <summary>
/// The remote client given several node addresses: a real server on loopback next to a closed port (connection
/// refused) and next to a socket that hangs up after the request arrived (the server may have seen it).
/// </summary>
public sealed class MultiNodeClientTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private static readonly VectorStoreClientOptions Options = new() { Timeout = TimeSpan.FromSeconds(30) };

    [Fact]
    public async Task Every_call_succeeds_with_one_dead_node_first_in_the_list()
    {
        var dead = new Uri($"http://127.0.0.1:{LoopbackPort.Free()}");
        using var client = new VectorStoreGrpcClient([dead, server.GrpcAddress], Options);
        string name = "multi-" + Guid.NewGuid().ToString("N")[..8];

        // Round robin starts each call on another node, so half of these start on the dead one and must move on.
        await client.CreateCollectionAsync(name, new CollectionOptions { Encoder = "none", Dimension = 2 });
        var assigned = await client.UpsertAsync(name, [new DocumentWrite { Vector = [1, 0] }]);
        await client.UpsertAsync(name, [new DocumentWrite { Id = "b", Vector = [0, 1] }]);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(2, await client.CountAsync(name));
            var hits = await client.QueryAsync(name, new SearchQuery { Vector = [0, 1], K = 1, Exact = true });
            Assert.Equal("b", Assert.Single(hits).Id);
            Assert.Equal("b", (await client.GetDocumentAsync(name, "b")).Id);
            Assert.Equal(2, (await client.ListDocumentsAsync(name)).Documents.Count);
        }
        await client.DeleteDocumentAsync(name, assigned[0]);
        Assert.Equal(1, await client.CountAsync(name));
        await client.DeleteCollectionAsync(name);
        Assert.DoesNotContain(await client.ListCollectionsAsync(), c => c.Name == name);
    }

    [Fact]
    public async Task All_nodes_dead_names_every_address()
    {
        var first = new Uri($"http://127.0.0.1:{LoopbackPort.Free()}");
        var second = new Uri($"http://127.0.0.1:{LoopbackPort.Free()}");
        using var client = new VectorStoreGrpcClient([first, second], Options);

        var error = await Assert.ThrowsAsync<VectorStoreClientException>(() => client.CountAsync("docs"));

        Assert.Equal(VectorStoreErrorCode.Unavailable, error.Code);
        Assert.Contains(first.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Contains(second.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Contains("unreachable", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task After_the_request_was_sent_only_reads_and_upserts_by_id_move_to_another_node()
    {
        using var hangUp = new HangUpNode();
        string name = "multi-" + Guid.NewGuid().ToString("N")[..8];
        using (var direct = new VectorStoreGrpcClient(server.GrpcAddress))
        {
            await direct.CreateCollectionAsync(name, new CollectionOptions { Encoder = "none", Dimension = 2 });
        }

        // A fresh client starts on the first address: the node that received the request and then hung up.
        using (var client = new VectorStoreGrpcClient([hangUp.Address, server.GrpcAddress], Options))
        {
            var error = await Assert.ThrowsAsync<VectorStoreClientException>(() => client.UpsertAsync(name, [new DocumentWrite { Vector = [1, 0] }]));
            Assert.Equal(VectorStoreErrorCode.Unavailable, error.Code);
        }
        using (var client = new VectorStoreGrpcClient([hangUp.Address, server.GrpcAddress], Options))
        {
            Assert.Equal(["a"], await client.UpsertAsync(name, [new DocumentWrite { Id = "a", Vector = [1, 0] }]));
        }
        using (var client = new VectorStoreGrpcClient([hangUp.Address, server.GrpcAddress], Options))
        {
            Assert.Equal(1, await client.CountAsync(name));
        }
        using (var client = new VectorStoreGrpcClient([hangUp.Address, server.GrpcAddress], Options))
        {
            var error = await Assert.ThrowsAsync<VectorStoreClientException>(() => client.DeleteDocumentAsync(name, "a"));
            Assert.Equal(VectorStoreErrorCode.Unavailable, error.Code);
        }
        Assert.True(hangUp.Connections >= 4, $"the hang-up node saw {hangUp.Connections} connections");
    }

    /// <summary>Accepts each connection, reads what the client sends, then closes it without answering.</summary>
    private sealed class HangUpNode : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private int _connections;

        public HangUpNode()
        {
            _listener.Start();
            Address = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");
            _ = Task.Run(async () =>
            {
                try
                {
                    while (true)
                    {
                        using var socket = await _listener.AcceptSocketAsync();
                        Interlocked.Increment(ref _connections);
                        var buffer = new byte[64 * 1024];
                        await socket.ReceiveAsync(buffer, SocketFlags.None);
                        await Task.Delay(100); // let the request's frames arrive before hanging up
                    }
                }
                catch (Exception e) when (e is SocketException or ObjectDisposedException)
                {
                    // The listener was stopped.
                }
            });
        }

        public Uri Address { get; }

        public int Connections => Volatile.Read(ref _connections);

        public void Dispose() => _listener.Stop();
    }
}
