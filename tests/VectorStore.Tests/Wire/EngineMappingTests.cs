using System.Reflection;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;
using VectorStoreDb.Engine;
using VectorStoreDb.Index;
using VectorStoreDb.Wire;
using V1 = VectorStoreDb.Contracts.V1;

namespace VectorStoreDb.Tests.Wire;

/// <summary>
/// Completeness checks that make adding an API field short: a proto field the mapping forgets, or an engine
/// field with no wire counterpart, fails here by name instead of being dropped silently.
/// </summary>
public class EngineMappingTests
{
    [Fact]
    public void Every_create_collection_field_reaches_the_engine()
    {
        var request = Filled(new V1.CreateCollectionRequest());

        var mapped = request.ToEngine();

        AssertEveryPropertySet(mapped);
    }

    [Fact]
    public void Every_query_field_reaches_the_engine()
    {
        var request = Filled(new V1.QueryRequest());
        request.Vector.Add([1f, 2f]);
        request.Filter = new Struct { Fields = { ["kind"] = Value.ForString("pet") } };

        var mapped = request.ToEngine();

        AssertEveryPropertySet(mapped);
        Assert.Equal(request.K, mapped.K);
    }

    [Fact]
    public void An_absent_k_keeps_the_engines_default()
    {
        var mapped = new V1.QueryRequest { Collection = "c" }.ToEngine();

        Assert.Equal(new QueryRequest().K, mapped.K);
        Assert.Null(mapped.Filter);
    }

    [Fact]
    public void Every_collection_info_field_is_reported()
    {
        var info = new CollectionInfo(new CollectionSettings
        {
            Name = "c",
            Metric = Metric.Dot,
            Encoder = "demo",
            Dimension = 8,
            Index = IndexKinds.Hnsw,
            M = 8,
            EfConstruction = 50,
            Shards = 2,
            Projection = ProjectionKinds.Pca,
            IndexDimension = 4,
            Rescore = true,
            ProjectionSeed = 3,
            PcaSampleSize = 10,
            CreatedAt = DateTimeOffset.UnixEpoch,
            TextIndex = new TextIndexSettings { Language = "none", K1 = 1.5f, B = 0.5f },
            DefaultMode = QueryModes.Hybrid,
            Chunking = true,
            ChunkTokens = 64,
            ChunkOverlap = 8,
            // Not a combination the resolver accepts (quantization needs no projection); this test is about the mapping only.
            Quantization = "int8",
            Oversampling = 5,
            OnDisk = true,
        }, DocumentCount: 5, ProjectionReady: true);

        var message = info.ToProto();

        foreach (var field in V1.CollectionInfo.Descriptor.Fields.InFieldNumberOrder())
        {
            object value = field.Accessor.GetValue(message);
            Assert.False(IsDefault(value), $"CollectionInfo.{field.Name} is not filled from the engine's collection.");
        }
        Assert.Equal("1970-01-01T00:00:00.0000000+00:00", message.CreatedAt);
    }

    [Fact]
    public void Stored_settings_are_reported_by_the_shared_rules()
    {
        var legacy = new CollectionSettings { Name = "old", Dimension = 12, IndexDimension = 0, Rescore = true, ChunkTokens = 0, Chunking = true };

        var message = new CollectionInfo(legacy, 0).ToProto();

        Assert.Equal(12, legacy.ReportedIndexDimension());
        Assert.Equal(12, message.IndexDimension);
        Assert.False(legacy.ReportedRescore());
        Assert.False(message.Rescore);
        Assert.Null(legacy.ReportedChunkTokens());
        Assert.Equal(0, message.ChunkTokens);
        Assert.Equal(64, (legacy with { ChunkTokens = 64 }).ReportedChunkTokens());
        Assert.True((legacy with { Projection = ProjectionKinds.Random, IndexDimension = 6 }).ReportedRescore());
        // Settings saved before quantization existed have none, and no oversampling.
        Assert.Equal("none", message.Quantization);
        Assert.Equal(0f, message.Oversampling);
        var int8 = legacy with { Quantization = "int8" };
        Assert.True(int8.ReportedRescore());
        Assert.Equal(3f, int8.ReportedOversampling());
        Assert.Equal(8f, (legacy with { Quantization = "binary" }).ReportedOversampling());
        Assert.Equal(6f, (int8 with { Oversampling = 6 }).ReportedOversampling());
    }

    [Fact]
    public void Documents_and_hits_keep_every_part()
    {
        var metadata = VectorStoreDb.Engine.Metadata.FromObjects(new Dictionary<string, object?> { ["kind"] = "pet", ["year"] = 2021, ["tags"] = new object[] { "a", true } }, "metadata");
        var document = new Document("d1", "hello", metadata, [1f, 2f]) { Chunks = [new ChunkSpan(0, 0, 5)] };

        var message = document.ToProto();
        var back = new V1.DocumentInput { Id = message.Id, Text = message.Text, Metadata = message.Metadata, Vector = { message.Vector } }.ToEngine(0);

        Assert.Equal("d1", back.Id);
        Assert.Equal("hello", back.Text);
        Assert.Equal([1f, 2f], back.Vector!);
        Assert.Equal(VectorStoreDb.Engine.Metadata.ToObjects(metadata), VectorStoreDb.Engine.Metadata.ToObjects(back.Metadata!));
        Assert.Equal(5, Assert.Single(message.Chunks).End);
    }

    [Fact]
    public void Bad_wire_metadata_is_refused_with_the_documents_field()
    {
        var input = new V1.DocumentInput { Text = "t", Metadata = new Struct { Fields = { ["nested"] = Value.ForStruct(new Struct()) } } };

        var refusal = Assert.Throws<VectorStoreException>(() => input.ToEngine(3));

        Assert.Equal(ErrorCode.InvalidArgument, refusal.Code);
        Assert.StartsWith("documents[3].metadata", refusal.Field);
    }

    private static T Filled<T>(T message) where T : IMessage
    {
        foreach (var field in message.Descriptor.Fields.InFieldNumberOrder().Where(f => !f.IsRepeated && f.FieldType != FieldType.Message))
        {
            object value = field.FieldType switch
            {
                FieldType.String => "x",
                FieldType.Bool => true,
                FieldType.Int32 or FieldType.SInt32 => 7,
                FieldType.Int64 or FieldType.SInt64 => 7L,
                FieldType.UInt64 => 7UL,
                FieldType.UInt32 => 7U,
                FieldType.Float => 0.5f,
                FieldType.Double => 0.5d,
                _ => throw new NotSupportedException($"{field.FullName}: {field.FieldType}"),
            };
            field.Accessor.SetValue(message, value);
        }
        return message;
    }

    /// <summary>Engine request properties no client sends: a cluster coordinator fills them between nodes.</summary>
    private static readonly HashSet<string> NotFromClients = [$"{nameof(QueryRequest)}.{nameof(QueryRequest.TextStatistics)}"];

    private static void AssertEveryPropertySet(object mapped)
    {
        foreach (var property in mapped.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanRead && p.GetIndexParameters().Length == 0 && !NotFromClients.Contains($"{p.DeclaringType!.Name}.{p.Name}")))
        {
            Assert.False(IsDefault(property.GetValue(mapped)), $"{mapped.GetType().Name}.{property.Name} has no wire source in the mapping.");
        }
    }

    private static bool IsDefault(object? value) => value switch
    {
        null => true,
        string s => s.Length == 0,
        bool b => !b,
        int i => i == 0,
        long l => l == 0,
        ulong u => u == 0,
        float f => f == 0,
        double d => d == 0,
        IMessage => false,
        System.Collections.ICollection c => c.Count == 0,
        _ => false,
    };
}
