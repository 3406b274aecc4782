using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using VectorStoreDb.Engine.Diagnostics;

namespace VectorStoreDb.Cluster.Diagnostics;

/// <summary>
/// Spans and instruments of cluster mode. Spans come from their own source (<see cref="ActivitySourceName"/>) so a
/// single-node server's traces stay as they were; instruments join the engine's <see cref="VectorStoreTelemetry.Meter"/>
/// so one <c>AddMeter("VectorStore")</c> collects both, and use its tag names.
/// </summary>
public static class ClusterTelemetry
{
    /// <summary>Source of the fan-out spans.</summary>
    public const string ActivitySourceName = "VectorStore.Cluster";

    public static class Spans
    {
        /// <summary>One query, count or listing over every shard, on the node that took the request.</summary>
        public const string FanOut = "vectorstore.cluster.fanout";

        /// <summary>A child of <see cref="FanOut"/>: the call to one replica of one shard.</summary>
        public const string Shard = "vectorstore.cluster.shard";
    }

    public static class Instruments
    {
        public const string ShardDuration = "vectorstore.cluster.shard.duration";
        public const string MergeDuration = "vectorstore.cluster.merge.duration";
        public const string WriteUnavailable = "vectorstore.cluster.write.unavailable";
        public const string ShardSequence = "vectorstore.cluster.shard.sequence";
    }

    public static class Tags
    {
        /// <summary>The node (silo name) a replica call went to, or that records a measurement.</summary>
        public const string Node = "vectorstore.node";

        /// <summary>On a shard span: true when this node's own replica was read straight from its engine, without a grain call.</summary>
        public const string Direct = "vectorstore.cluster.direct";
        public const string Shards = "vectorstore.shards";
        public const string Mode = "vectorstore.mode";
    }

    public static readonly ActivitySource Source = new(ActivitySourceName);

    /// <summary>One replica call (query, count, list, statistics), tagged with collection, shard, replica node and operation.</summary>
    public static readonly Histogram<double> ShardDuration = VectorStoreTelemetry.Meter.CreateHistogram<double>(
        Instruments.ShardDuration, "s", "Duration of one shard replica call in a cluster fan-out.");

    /// <summary>Merging the shards' top k on the coordinating node: what scatter-gather adds on top of the slowest shard.</summary>
    public static readonly Histogram<double> MergeDuration = VectorStoreTelemetry.Meter.CreateHistogram<double>(
        Instruments.MergeDuration, "s", "Merge of the shards' top k on the coordinating node.");

    /// <summary>Writes that failed because a shard could not meet its write consistency.</summary>
    public static readonly Counter<long> WriteUnavailable = VectorStoreTelemetry.Meter.CreateCounter<long>(
        Instruments.WriteUnavailable, "{write}", "Shard writes refused with Unavailable (write consistency not met, sequencer or replicas not answering).");

    private static readonly ConcurrentDictionary<(string Node, string Collection, int Shard), long> Sequences = new();

    static ClusterTelemetry()
    {
        VectorStoreTelemetry.Meter.CreateObservableGauge(Instruments.ShardSequence, ObserveSequences, "{operation}",
            "Highest sequence number acknowledged for each shard through this node (compare nodes, or GET /cluster for each replica's position).");
    }

    /// <summary>Starts the span of one fan-out; null when nobody listens.</summary>
    public static Activity? StartFanOut(string collection, string operation, int shards, string? mode = null)
    {
        var activity = Source.StartActivity(Spans.FanOut);
        if (activity is not null)
        {
            activity.SetTag(VectorStoreTelemetry.Tags.Collection, collection);
            activity.SetTag(VectorStoreTelemetry.Tags.Operation, operation);
            activity.SetTag(Tags.Shards, shards);
            if (mode is not null)
            {
                activity.SetTag(Tags.Mode, mode);
            }
        }
        return activity;
    }

    /// <summary>Starts the span of one shard's call inside a fan-out; the replica's node is tagged once one answers.</summary>
    public static Activity? StartShard(string collection, int shard, string operation)
    {
        var activity = Source.StartActivity(Spans.Shard);
        if (activity is not null)
        {
            activity.SetTag(VectorStoreTelemetry.Tags.Collection, collection);
            activity.SetTag(VectorStoreTelemetry.Tags.Shard, shard);
            activity.SetTag(VectorStoreTelemetry.Tags.Operation, operation);
        }
        return activity;
    }

    /// <summary>Records a replica's answer: its duration, and the node on the current shard span.</summary>
    public static void RecordShardCall(string collection, int shard, string replicaNode, TimeSpan elapsed, bool direct = false)
    {
        if (Activity.Current is { OperationName: Spans.Shard } span)
        {
            span.SetTag(Tags.Node, replicaNode);
            span.SetTag(Tags.Direct, direct);
        }
        ShardDuration.Record(elapsed.TotalSeconds,
            new KeyValuePair<string, object?>(VectorStoreTelemetry.Tags.Collection, collection),
            new KeyValuePair<string, object?>(VectorStoreTelemetry.Tags.Shard, shard),
            new KeyValuePair<string, object?>(Tags.Node, replicaNode));
    }

    public static void RecordMerge(string collection, TimeSpan elapsed) =>
        MergeDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>(VectorStoreTelemetry.Tags.Collection, collection));

    public static void RecordWriteUnavailable(string node, string collection, int shard) =>
        WriteUnavailable.Add(1,
            new KeyValuePair<string, object?>(Tags.Node, node),
            new KeyValuePair<string, object?>(VectorStoreTelemetry.Tags.Collection, collection),
            new KeyValuePair<string, object?>(VectorStoreTelemetry.Tags.Shard, shard));

    /// <summary>Remembers the highest sequence a shard acknowledged through <paramref name="node"/>.</summary>
    public static void RecordAcknowledged(string node, string collection, int shard, long sequence) =>
        Sequences.AddOrUpdate((node, collection, shard), sequence, (_, known) => Math.Max(known, sequence));

    /// <summary>Drops a deleted collection's gauges.</summary>
    public static void Forget(string collection)
    {
        foreach (var key in Sequences.Keys.Where(k => k.Collection == collection))
        {
            Sequences.TryRemove(key, out _);
        }
    }

    private static IEnumerable<Measurement<long>> ObserveSequences()
    {
        foreach (var ((node, collection, shard), sequence) in Sequences)
        {
            yield return new Measurement<long>(sequence,
                new KeyValuePair<string, object?>(Tags.Node, node),
                new KeyValuePair<string, object?>(VectorStoreTelemetry.Tags.Collection, collection),
                new KeyValuePair<string, object?>(VectorStoreTelemetry.Tags.Shard, shard));
        }
    }
}
