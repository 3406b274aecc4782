using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using VectorStoreDb.Engine;

namespace VectorStoreDb.Tests;

/// <summary>Collects log lines so tests can check that recovery warned about what it found.</summary>
internal sealed class ListLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<(LogLevel Level, string Message)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new ListLogger(this);

    public bool Has(LogLevel level, string fragment) =>
        Entries.Any(e => e.Level == level && e.Message.Contains(fragment, StringComparison.OrdinalIgnoreCase));

    public void Dispose()
    {
    }

    private sealed class ListLogger(ListLoggerProvider owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Entries.Enqueue((logLevel, formatter(state, exception) + (exception is null ? "" : " " + exception.Message)));
    }
}

/// <summary>A logger factory over one <see cref="ListLoggerProvider"/> (no logging package needed).</summary>
internal sealed class ListLoggerFactory(ListLoggerProvider provider) : ILoggerFactory
{
    public void AddProvider(ILoggerProvider provider)
    {
    }

    public ILogger CreateLogger(string categoryName) => provider.CreateLogger(categoryName);

    public void Dispose()
    {
    }
}

/// <summary>Opens engines on a real folder with small log segments and no background timers, so tests decide when checkpoints happen.</summary>
internal static class StorageTestSupport
{
    public static VectorStoreEngine Open(string path, ListLoggerProvider? logs = null, Action<VectorStoreOptions>? configure = null)
    {
        return VectorStoreEngine.Open(path, new ListLoggerFactory(logs ?? new ListLoggerProvider()), configure: options =>
        {
            options.Durability.LogSegmentSizeMb = 1;
            options.Durability.CheckpointIntervalSeconds = 0;
            options.Durability.CheckpointOnShutdown = false;
            configure?.Invoke(options);
        });
    }

    public static Task CreateRaw(VectorStoreEngine engine, string name, int dimension = 16, int shards = 1, string? index = null) =>
        engine.CreateCollectionAsync(new CreateCollectionRequest { Name = name, Encoder = "none", Metric = "l2", Dimension = dimension, Shards = shards, Index = index });

    public static DocumentInput Doc(int i, int dimension = 16, string prefix = "doc") => new()
    {
        Id = $"{prefix}-{i}",
        Text = $"text {i}",
        Vector = TestData.RandomVector(new Random(i * 7919 + prefix.Length), dimension),
        Metadata = new Dictionary<string, MetadataValue> { ["n"] = MetadataValue.Of(i), ["tag"] = MetadataValue.Of(i % 2 == 0 ? "even" : "odd") },
    };

    public static async Task UpsertRange(VectorStoreEngine engine, string collection, int from, int count, int batch = 10, int dimension = 16, string prefix = "doc")
    {
        for (int start = from; start < from + count; start += batch)
        {
            int n = Math.Min(batch, from + count - start);
            await engine.UpsertAsync(collection, [.. Enumerable.Range(start, n).Select(i => Doc(i, dimension, prefix))]);
        }
    }

    public static void AssertSameDocument(Document expected, Document actual)
    {
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.Text, actual.Text);
        Assert.Equal(expected.Metadata.OrderBy(p => p.Key), actual.Metadata.OrderBy(p => p.Key));
        Assert.Equal(expected.Vector, actual.Vector);
    }

    public static async Task<string[]> QueryIds(VectorStoreEngine engine, string collection, int seed, int dimension = 16) =>
        [.. (await engine.QueryAsync(collection, new QueryRequest { Vector = TestData.RandomVector(new Random(seed), dimension), K = 10 })).Select(h => h.Id)];

    public static string ShardFolder(string dataPath, string collection, int shard = 0) =>
        Path.Combine(dataPath, "collections", collection, $"shard-{shard}");

    public static string[] Checkpoints(string dataPath, string collection, int shard = 0) =>
        [.. Directory.GetFiles(Path.Combine(ShardFolder(dataPath, collection, shard), "checkpoints"), "ckpt-*.vsc").Order(StringComparer.Ordinal)];

    public static void FlipByte(string path, long offset)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        file.Position = offset;
        int b = file.ReadByte();
        file.Position = offset;
        file.WriteByte((byte)(b ^ 0x5A));
        file.Flush(flushToDisk: true);
    }

    public static void CopyFolder(string source, string destination)
    {
        foreach (var dir in Directory.EnumerateDirectories(source, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(dir.Replace(source, destination, StringComparison.Ordinal));
        }
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            using var input = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var output = File.Create(file.Replace(source, destination, StringComparison.Ordinal));
            input.CopyTo(output);
        }
    }
}
