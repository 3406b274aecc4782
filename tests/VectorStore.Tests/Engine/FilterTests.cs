using System.Text.Json;
using VectorStoreDb.Engine;
using VectorStoreDb.Engine.Filtering;

namespace VectorStoreDb.Tests.Engine;

public class FilterTests
{
    private static readonly IReadOnlyDictionary<string, MetadataValue> Cat = Metadata.FromJson(
        JsonDocument.Parse("""{"kind":"pet","name":"tom","year":2021,"indoor":true,"tags":["cute","small"]}""").RootElement, "metadata");

    private static readonly IReadOnlyDictionary<string, MetadataValue> Car = Metadata.FromJson(
        JsonDocument.Parse("""{"kind":"vehicle","year":2019,"tags":["fast"]}""").RootElement, "metadata");

    private static bool Matches(string filter, IReadOnlyDictionary<string, MetadataValue> metadata) =>
        MetadataFilter.Parse(JsonDocument.Parse(filter).RootElement).Matches(metadata);

    [Theory]
    [InlineData("""{"kind":"pet"}""", true, false)]
    [InlineData("""{"kind":{"$eq":"vehicle"}}""", false, true)]
    [InlineData("""{"kind":{"$ne":"pet"}}""", false, true)]
    [InlineData("""{"year":{"$gte":2021}}""", true, false)]
    [InlineData("""{"year":{"$gt":2019}}""", true, false)]
    [InlineData("""{"year":{"$lt":2021}}""", false, true)]
    [InlineData("""{"year":{"$lte":2019}}""", false, true)]
    [InlineData("""{"year":{"$gte":2019,"$lt":2021}}""", false, true)]
    [InlineData("""{"kind":{"$in":["pet","plant"]}}""", true, false)]
    [InlineData("""{"kind":{"$nin":["pet","plant"]}}""", false, true)]
    [InlineData("""{"tags":"fast"}""", false, true)]
    [InlineData("""{"tags":{"$in":["small","huge"]}}""", true, false)]
    [InlineData("""{"tags":{"$ne":"cute"}}""", false, true)]
    [InlineData("""{"indoor":true}""", true, false)]
    [InlineData("""{"indoor":{"$ne":true}}""", false, true)]
    [InlineData("""{"name":{"$gt":"a"}}""", true, false)]
    [InlineData("""{"$and":[{"kind":"pet"},{"year":2021}]}""", true, false)]
    [InlineData("""{"$or":[{"kind":"vehicle"},{"name":"tom"}]}""", true, true)]
    [InlineData("""{"$not":{"kind":"pet"}}""", false, true)]
    [InlineData("""{"kind":"pet","year":2019}""", false, false)]
    [InlineData("""{"missing":{"$nin":["x"]}}""", true, true)]
    [InlineData("""{"missing":"x"}""", false, false)]
    [InlineData("""{"year":{"$gt":"2000"}}""", false, false)]
    public void Operators_follow_mongo_semantics(string filter, bool cat, bool car)
    {
        Assert.Equal(cat, Matches(filter, Cat));
        Assert.Equal(car, Matches(filter, Car));
    }

    [Theory]
    [InlineData("""[1]""", "filter")]
    [InlineData("""{"kind":{"$regex":"p.*"}}""", "filter.kind.$regex")]
    [InlineData("""{"$xor":[]}""", "filter.$xor")]
    [InlineData("""{"$and":[]}""", "filter.$and")]
    [InlineData("""{"$or":{"a":1}}""", "filter.$or")]
    [InlineData("""{"year":{"$in":2020}}""", "filter.year.$in")]
    [InlineData("""{"year":{"$gt":true}}""", "filter.year.$gt")]
    [InlineData("""{"kind":null}""", "filter.kind")]
    [InlineData("""{"kind":{}}""", "filter.kind")]
    public void Malformed_filters_are_refused_naming_the_field(string filter, string field)
    {
        var error = Assert.Throws<VectorStoreException>(() => MetadataFilter.Parse(JsonDocument.Parse(filter).RootElement));
        Assert.Equal(ErrorCode.InvalidArgument, error.Code);
        Assert.Equal(field, error.Field);
    }

    [Fact]
    public void Metadata_refuses_nested_objects_and_nulls()
    {
        Assert.Throws<VectorStoreException>(() => Metadata.FromJson(JsonDocument.Parse("""{"a":{"b":1}}""").RootElement, "metadata"));
        Assert.Throws<VectorStoreException>(() => Metadata.FromJson(JsonDocument.Parse("""{"a":null}""").RootElement, "metadata"));
        Assert.Throws<VectorStoreException>(() => Metadata.FromJson(JsonDocument.Parse("""{"a":[[1]]}""").RootElement, "metadata"));
        var round = Metadata.FromUtf8Json(Metadata.ToUtf8Json(Cat));
        Assert.Equal(Cat.OrderBy(p => p.Key), round.OrderBy(p => p.Key));
    }
}
