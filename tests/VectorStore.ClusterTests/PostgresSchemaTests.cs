using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime.MembershipService;
using Orleans.Serialization;
using Orleans.Serialization.Serializers;
using Orleans.Storage;

namespace VectorStoreDb.ClusterTests;

/// <summary>
/// Our PostgreSQL schema (deploy/postgres) against Orleans' own ADO.NET providers, called directly: the membership
/// table's optimistic concurrency (a write names the table version it read; a stale one is refused, and of two racing
/// writes one wins), the heartbeat outside it, clean-up of dead silos, and the grain storage's ETags (first write,
/// replace, clear, delete, and a conflict for every stale or duplicate write).
/// </summary>
public sealed class PostgresSchemaTests : IAsyncLifetime
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "vs-pgs-" + Guid.NewGuid().ToString("N")[..8]);
    private PostgresServer? _server;
    private string _connectionString = "";

    public async Task InitializeAsync()
    {
        _server = await PostgresServer.StartAsync(_root);
        _connectionString = await _server.CreateDatabaseAsync("contract");
    }

    public Task DisposeAsync()
    {
        _server?.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Left to the OS's temp clean-up.
        }
        return Task.CompletedTask;
    }

    [PostgresFact]
    public async Task Membership_table_refuses_stale_versions_and_lets_one_of_two_racing_writes_win()
    {
        var table = MembershipTable("cluster-a");
        await table.InitializeMembershipTableAsync(true);
        await table.InitializeMembershipTableAsync(true); // a second silo's start finds the version row there
        var empty = await table.ReadAllAsync();
        Assert.Empty(empty.Members);
        Assert.Equal(0, empty.Version.Version);

        var first = Entry(11111, "a");
        Assert.True(await table.InsertRowAsync(first, empty.Version.Next()));
        // Same version again: the table moved on, so a second insert made from the same read is refused.
        Assert.False(await table.InsertRowAsync(Entry(11112, "b"), empty.Version.Next()));
        Assert.False(await table.InsertRowAsync(first, (await table.ReadAllAsync()).Version.Next())); // already there

        var read = await table.ReadAllAsync();
        Assert.Equal(1, read.Version.Version);
        var (stored, etag) = Assert.Single(read.Members);
        Assert.Equal((first.SiloAddress, "a", SiloStatus.Joining, 30000), (stored.SiloAddress, stored.SiloName, stored.Status, stored.ProxyPort));

        // Two writers that read the same version: exactly one wins.
        var racing = await Task.WhenAll(
            table.InsertRowAsync(Entry(11113, "c"), read.Version.Next()),
            table.UpdateRowAsync(With(first, SiloStatus.Active), etag, read.Version.Next()));
        Assert.Equal(1, racing.Count(won => won));

        // A stale update is refused; a fresh one goes through, suspicions included.
        var current = await table.ReadAllAsync();
        Assert.Equal(2, current.Version.Version);
        var accuser = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11119), 7);
        var suspected = With(first, SiloStatus.Active);
        suspected.SuspectTimes = [Tuple.Create(accuser, new DateTime(2026, 12, 7, 1, 2, 3, DateTimeKind.Utc))];
        Assert.False(await table.UpdateRowAsync(suspected, read.Members[0].Item2, read.Version.Next()));
        Assert.True(await table.UpdateRowAsync(suspected, current.Version.VersionEtag, current.Version.Next()));
        var row = await table.ReadRowAsync(first.SiloAddress);
        Assert.Equal(3, row.Version.Version);
        var (updated, _) = Assert.Single(row.Members);
        Assert.Equal(SiloStatus.Active, updated.Status);
        Assert.NotNull(updated.SuspectTimes);
        Assert.Equal(accuser, Assert.Single(updated.SuspectTimes).Item1);

        // The heartbeat changes IAmAliveTime only, not the version.
        var alive = DateTime.UtcNow.AddMinutes(1);
        await table.UpdateIAmAliveAsync(With(first, SiloStatus.Active, alive));
        row = await table.ReadRowAsync(first.SiloAddress);
        Assert.Equal(3, row.Version.Version);
        Assert.True((row.Members[0].Item1.IAmAliveTime - alive).Duration() < TimeSpan.FromMilliseconds(1));
        Assert.Empty((await table.ReadRowAsync(SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 1), 1))).Members);

        // Another cluster in the same database sees none of it.
        var other = MembershipTable("cluster-b");
        await other.InitializeMembershipTableAsync(true);
        Assert.Empty((await other.ReadAllAsync()).Members);

        // Dead silos not heard of since the cut-off are removed; live ones stay. Row by row (the optional statement,
        // which deletes a row only if it is unchanged since the read)...
        var dead = Entry(11114, "d", SiloStatus.Dead, DateTime.UtcNow.AddHours(-1));
        dead.SuspectTimes = [Tuple.Create(first.SiloAddress, DateTime.UtcNow.AddHours(-1))];
        Assert.True(await table.InsertRowAsync(dead, row.Version.Next()));
        var read4 = await table.ReadAllAsync();
        Assert.True(await table.UpdateRowAsync(dead, read4.Version.VersionEtag, read4.Version.Next())); // stores the suspicion
        await table.CleanupDefunctSiloEntriesAsync(DateTimeOffset.UtcNow.AddMinutes(-5));
        var left = (await table.ReadAllAsync()).Members.Select(m => m.Item1.SiloAddress).ToList();
        Assert.Contains(first.SiloAddress, left);
        Assert.DoesNotContain(dead.SiloAddress, left);
        // ...and in one statement, the required one Orleans falls back to without it.
        await _server!.PsqlAsync("contract", "-tAc", "DELETE FROM OrleansQuery WHERE QueryKey = 'CleanupDefunctSiloEntryKey'");
        var fallback = MembershipTable("cluster-a");
        await fallback.InitializeMembershipTableAsync(false);
        var read5 = await fallback.ReadAllAsync();
        var dead2 = Entry(11115, "e", SiloStatus.Dead, DateTime.UtcNow.AddHours(-1));
        Assert.True(await fallback.InsertRowAsync(dead2, read5.Version.Next()));
        await fallback.CleanupDefunctSiloEntriesAsync(DateTimeOffset.UtcNow.AddMinutes(-5));
        left = (await fallback.ReadAllAsync()).Members.Select(m => m.Item1.SiloAddress).ToList();
        Assert.Contains(first.SiloAddress, left);
        Assert.DoesNotContain(dead2.SiloAddress, left);

        await table.DeleteMembershipTableEntriesAsync("cluster-a");
        Assert.Equal("0", await _server.PsqlAsync("contract", "-tAc", "SELECT count(*) FROM orleans_membership WHERE deployment_id = 'cluster-a'"));
    }

    [PostgresFact]
    public async Task Grain_storage_versions_every_write_and_refuses_stale_or_duplicate_ones()
    {
        var (storage, deleting) = (await GrainStorage(deleteOnClear: false), await GrainStorage(deleteOnClear: true));
        var grain = GrainId.Create("catalog", "main");
        var state = new GrainState<List<string>>();
        await storage.ReadStateAsync("CatalogGrain", grain, state);
        Assert.False(state.RecordExists);
        Assert.Null(state.ETag);

        state.State = ["one"];
        await storage.WriteStateAsync("CatalogGrain", grain, state);
        Assert.Equal("1", state.ETag);
        // A second activation that also thinks the grain is new: refused.
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("CatalogGrain", grain, new GrainState<List<string>>(["two"])));

        state.State = ["one", "two"];
        await storage.WriteStateAsync("CatalogGrain", grain, state);
        Assert.Equal("2", state.ETag);
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("CatalogGrain", grain, new GrainState<List<string>>(["stale"]) { ETag = "1" }));

        var read = new GrainState<List<string>>();
        await storage.ReadStateAsync("CatalogGrain", grain, read);
        Assert.Equal(["one", "two"], read.State);
        Assert.Equal(("2", true), (read.ETag, read.RecordExists));

        // Other keys and types are other rows: an integer key with an extension, the same string key of another type.
        var other = GrainId.Create(GrainType.Create("replica"), GrainIdKeyExtensions.CreateIntegerKey(42, "shard-1"));
        var otherState = new GrainState<List<string>>(["other"]);
        await storage.WriteStateAsync("ReplicaGrain", other, otherState);
        await storage.WriteStateAsync("OtherGrain", grain, new GrainState<List<string>>(["same key, other type"]));
        Assert.Equal("1", otherState.ETag);

        // Clear keeps the row and its version line; the next write continues from it.
        await storage.ClearStateAsync("CatalogGrain", grain, read);
        Assert.Equal(("3", false), (read.ETag, read.RecordExists));
        var cleared = new GrainState<List<string>>();
        await storage.ReadStateAsync("CatalogGrain", grain, cleared);
        Assert.Equal(("3", false), (cleared.ETag, cleared.RecordExists));
        cleared.State = ["three"];
        await storage.WriteStateAsync("CatalogGrain", grain, cleared);
        Assert.Equal("4", cleared.ETag);

        // Delete on clear (the optional DeleteStorageKey) removes the row; a stale delete is refused.
        await Assert.ThrowsAsync<InconsistentStateException>(() => deleting.ClearStateAsync("CatalogGrain", grain, new GrainState<List<string>>(["x"]) { ETag = "3", RecordExists = true }));
        await deleting.ClearStateAsync("CatalogGrain", grain, cleared);
        Assert.Null(cleared.ETag);
        var gone = new GrainState<List<string>>();
        await storage.ReadStateAsync("CatalogGrain", grain, gone);
        Assert.Null(gone.ETag);
        Assert.False(gone.RecordExists);
        var survivor = new GrainState<List<string>>();
        await storage.ReadStateAsync("ReplicaGrain", other, survivor);
        Assert.Equal(["other"], survivor.State);
        Assert.Equal("1", survivor.ETag);
    }

    private AdoNetClusteringTable MembershipTable(string clusterId) => new(
        new ServiceCollection().BuildServiceProvider(),
        Options.Create(new ClusterOptions { ClusterId = clusterId, ServiceId = "contract" }),
        Options.Create(new AdoNetClusteringSiloOptions { Invariant = "Npgsql", ConnectionString = _connectionString }),
        NullLogger<AdoNetClusteringTable>.Instance);

    private static MembershipEntry Entry(int port, string name, SiloStatus status = SiloStatus.Joining, DateTime? time = null) => new()
    {
        SiloAddress = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, port), 1),
        SiloName = name,
        HostName = "host-" + name,
        Status = status,
        ProxyPort = 30000,
        StartTime = time ?? DateTime.UtcNow,
        IAmAliveTime = time ?? DateTime.UtcNow,
    };

    private static MembershipEntry With(MembershipEntry entry, SiloStatus status, DateTime? alive = null) => new()
    {
        SiloAddress = entry.SiloAddress,
        SiloName = entry.SiloName,
        HostName = entry.HostName,
        Status = status,
        ProxyPort = entry.ProxyPort,
        StartTime = entry.StartTime,
        IAmAliveTime = alive ?? entry.IAmAliveTime,
    };

    /// <summary>Orleans' ADO.NET grain storage, started the way a silo starts it (its lifecycle stage runs Init).</summary>
    private async Task<AdoNetGrainStorage> GrainStorage(bool deleteOnClear)
    {
        var services = new ServiceCollection().AddSerializer().BuildServiceProvider();
        var storage = new AdoNetGrainStorage(services.GetRequiredService<IActivatorProvider>(), NullLogger<AdoNetGrainStorage>.Instance,
            Options.Create(new AdoNetGrainStorageOptions
            {
                Invariant = "Npgsql",
                ConnectionString = _connectionString,
                GrainStorageSerializer = new OrleansGrainStorageSerializer(services.GetRequiredService<Serializer>()),
                DeleteStateOnClear = deleteOnClear,
            }),
            Options.Create(new ClusterOptions { ClusterId = "contract", ServiceId = "contract" }), "contract-storage");
        var lifecycle = new StartOnlyLifecycle();
        storage.Participate(lifecycle);
        await lifecycle.StartAsync();
        return storage;
    }

    /// <summary>Just enough of a silo lifecycle to run what subscribes to it.</summary>
    private sealed class StartOnlyLifecycle : ISiloLifecycle
    {
        private readonly List<ILifecycleObserver> _observers = [];

        public int HighestCompletedStage => 0;

        public int LowestStoppedStage => 0;

        public IDisposable Subscribe(string observerName, int stage, ILifecycleObserver observer)
        {
            _observers.Add(observer);
            return new Unsubscriber();
        }

        public async Task StartAsync()
        {
            foreach (var observer in _observers)
            {
                await observer.OnStart(CancellationToken.None);
            }
        }

        private sealed class Unsubscriber : IDisposable
        {
            public void Dispose()
            {
            }
        }
    }
}
