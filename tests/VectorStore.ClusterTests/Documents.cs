using VectorStoreDb.Engine;

namespace VectorStoreDb.ClusterTests;

/// <summary>Deterministic documents: random unit-ish vectors and a little metadata to filter on.</summary>
internal static class Documents
{
    public const int Dimension = 16;

    public static DocumentInput[] Make(int count, int seed, string prefix = "doc")
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(i => new DocumentInput
        {
            Id = $"{prefix}-{i:D5}",
            Vector = Vector(random),
            Text = $"document number {i}",
            Metadata = new Dictionary<string, MetadataValue>
            {
                ["kind"] = MetadataValue.Of(i % 3 == 0 ? "pet" : "plant"),
                ["year"] = MetadataValue.Of(2000 + i % 25),
            },
        })];
    }

    public static float[] Vector(Random random) => [.. Enumerable.Range(0, Dimension).Select(_ => (float)(random.NextDouble() * 2 - 1))];

    public static CreateCollectionRequest Request(string name, int shards, string index = IndexKinds.Exact) => new()
    {
        Name = name,
        Encoder = "none",
        Dimension = Dimension,
        Metric = "cosine",
        Index = index,
        Shards = shards,
    };
}
