using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using VectorStoreDb.Cluster.Diagnostics;
using VectorStoreDb.Engine;
using VectorStoreDb.Engine.Diagnostics;

namespace VectorStoreDb.ClusterTests;

/// <summary>The fan-out is traced with one child span per shard, and the per-shard instruments record.</summary>
public sealed class ClusterTelemetryTests(ClusterFixture fixture) : IClassFixture<ClusterFixture>
{
    private const int Shards = 4;

    [Fact]
    public async Task A_query_has_one_fan_out_span_with_one_child_per_shard_naming_its_replica_node()
    {
        const string name = "traced";
        var coordinator = fixture.Coordinator(0);
        await coordinator.CreateCollectionAsync(Documents.Request(name, shards: Shards), replicas: 2);
        await coordinator.UpsertAsync(name, Documents.Make(120, seed: 3));
        var placement = (await coordinator.GetStatusAsync()).Collections.Single(c => c.Name == name).ShardStates
            .ToDictionary(s => s.Shard, s => s.Replicas.Select(r => r.Node).ToHashSet());

        var spans = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == ClusterTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(listener);
        var shardCalls = new ConcurrentBag<(double Seconds, int Shard, string Node)>();
        using var meters = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name == ClusterTelemetry.Instruments.ShardDuration)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        meters.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            int shard = -1;
            string node = "";
            foreach (var tag in tags)
            {
                if (tag.Key == VectorStoreTelemetry.Tags.Shard)
                {
                    shard = (int)tag.Value!;
                }
                else if (tag.Key == ClusterTelemetry.Tags.Node)
                {
                    node = (string)tag.Value!;
                }
            }
            shardCalls.Add((value, shard, node));
        });
        meters.Start();

        using var parent = new Activity("test").Start();
        var hits = await coordinator.QueryAsync(name, new QueryRequest { Vector = Documents.Vector(new Random(5)), K = 10, Exact = true });
        parent.Stop();

        Assert.Equal(10, hits.Count);
        var traced = spans.Where(s => s.TraceId == parent.TraceId).ToList();
        var fanOut = Assert.Single(traced, s => s.OperationName == ClusterTelemetry.Spans.FanOut);
        Assert.Equal(parent.SpanId, fanOut.ParentSpanId);
        Assert.Equal(name, fanOut.GetTagItem(VectorStoreTelemetry.Tags.Collection));
        Assert.Equal(Shards, fanOut.GetTagItem(ClusterTelemetry.Tags.Shards));
        var children = traced.Where(s => s.ParentSpanId == fanOut.SpanId).ToList();
        Assert.Equal(Shards, children.Count);
        Assert.All(children, c => Assert.Equal(ClusterTelemetry.Spans.Shard, c.OperationName));
        Assert.Equal(Enumerable.Range(0, Shards), children.Select(c => (int)c.GetTagItem(VectorStoreTelemetry.Tags.Shard)!).Order());
        foreach (var child in children)
        {
            int shard = (int)child.GetTagItem(VectorStoreTelemetry.Tags.Shard)!;
            Assert.Contains((string)child.GetTagItem(ClusterTelemetry.Tags.Node)!, placement[shard]);
            // 120 documents over 4 shards: each shard holds more than k, so each returns its own top 10.
            Assert.Equal(10, child.GetTagItem(VectorStoreTelemetry.Tags.Hits));
            Assert.Equal(name, child.GetTagItem(VectorStoreTelemetry.Tags.Collection));
        }
        Assert.Equal(Enumerable.Range(0, Shards), shardCalls.Select(c => c.Shard).Distinct().Order());
        Assert.All(shardCalls, c => Assert.Contains(c.Node, placement[c.Shard]));
        Assert.All(shardCalls, c => Assert.True(c.Seconds > 0));
    }

    [Fact]
    public async Task This_nodes_serving_replicas_are_read_directly_and_the_others_through_grains()
    {
        const string name = "direct";
        var coordinator = fixture.Coordinator(0);
        // One replica per shard, six shards over three nodes: some shards live on the coordinating node, some elsewhere.
        await coordinator.CreateCollectionAsync(Documents.Request(name, shards: 6), replicas: 1);
        await coordinator.UpsertAsync(name, Documents.Make(120, seed: 9));
        var status = await coordinator.GetStatusAsync();
        var placement = status.Collections.Single(c => c.Name == name).ShardStates.ToDictionary(s => s.Shard, s => s.Replicas.Single().Node);

        var spans = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == ClusterTelemetry.ActivitySourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Add,
        };
        ActivitySource.AddActivityListener(listener);
        using var parent = new Activity("direct-test").Start();
        var query = new QueryRequest { Vector = Documents.Vector(new Random(2)), K = 10, Exact = true };
        var hits = await coordinator.QueryAsync(name, query);
        Assert.Equal(120, await coordinator.CountAsync(name));
        parent.Stop();

        // The same answer as through another node, where other shards are the local ones.
        Assert.Equal((await fixture.Coordinator(1).QueryAsync(name, query)).Select(h => (h.Id, h.Score)), hits.Select(h => (h.Id, h.Score)));
        var shardSpans = spans.Where(s => s.TraceId == parent.TraceId && s.OperationName == ClusterTelemetry.Spans.Shard).ToList();
        Assert.Equal(12, shardSpans.Count); // six for the query, six for the count
        foreach (var span in shardSpans)
        {
            int shard = (int)span.GetTagItem(VectorStoreTelemetry.Tags.Shard)!;
            Assert.Equal(placement[shard], span.GetTagItem(ClusterTelemetry.Tags.Node));
            Assert.Equal(placement[shard] == status.Node, span.GetTagItem(ClusterTelemetry.Tags.Direct));
        }
        Assert.Contains(shardSpans, s => s.GetTagItem(ClusterTelemetry.Tags.Direct) is true);
        Assert.Contains(shardSpans, s => s.GetTagItem(ClusterTelemetry.Tags.Direct) is false);
    }

    [Fact]
    public async Task Acknowledged_writes_show_as_a_sequence_per_shard()
    {
        const string name = "sequenced";
        var coordinator = fixture.Coordinator(1);
        await coordinator.CreateCollectionAsync(Documents.Request(name, shards: 2), replicas: 2);
        await coordinator.UpsertAsync(name, Documents.Make(40, seed: 4));
        await coordinator.UpsertAsync(name, Documents.Make(40, seed: 5));

        var sequences = new ConcurrentDictionary<int, long>();
        using var meters = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name == ClusterTelemetry.Instruments.ShardSequence)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        meters.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            var map = tags.ToArray().ToDictionary(t => t.Key, t => t.Value);
            if ((string?)map[VectorStoreTelemetry.Tags.Collection] == name)
            {
                sequences[(int)map[VectorStoreTelemetry.Tags.Shard]!] = value;
            }
        });
        meters.Start();
        meters.RecordObservableInstruments();

        var status = (await coordinator.GetStatusAsync()).Collections.Single(c => c.Name == name);
        Assert.Equal(2, sequences.Count);
        foreach (var shard in status.ShardStates)
        {
            // Two batches, each touching both shards: the gauge stands where every replica stands.
            Assert.Equal(2, sequences[shard.Shard]);
            Assert.All(shard.Replicas, r => Assert.Equal(sequences[shard.Shard], r.AppliedSequence));
        }
    }
}
