#pragma warning disable MEVD9001 // The connector's model is built with MEVD's provider services, experimental upstream.

using System.Linq.Expressions;
using System.Text.Json;
using Microsoft.Extensions.VectorData;
using Microsoft.Extensions.VectorData.ProviderServices;
using VectorStoreDb.Client.VectorData;
using VectorStoreDb.Engine;
using VectorStoreDb.Engine.Filtering;

namespace VectorStoreDb.Tests.Client.VectorData;

public class FilterTranslatorTests
{
    public sealed class Book
    {
        [VectorStoreKey]
        public string Id { get; set; } = "";

        [VectorStoreData(IsIndexed = true)]
        public string Category { get; set; } = "";

        [VectorStoreData(StorageName = "year")]
        public int Year { get; set; }

        [VectorStoreData]
        public int? Pages { get; set; }

        [VectorStoreData]
        public double Rating { get; set; }

        [VectorStoreData]
        public bool InPrint { get; set; }

        [VectorStoreData]
        public List<string> Tags { get; set; } = [];

        [VectorStoreData]
        public DateTimeOffset Published { get; set; }

        [VectorStoreData]
        public decimal Price { get; set; }

        [VectorStoreData(IsFullTextIndexed = true)]
        public string Text { get; set; } = "";

        [VectorStoreVector(3)]
        public ReadOnlyMemory<float> Embedding { get; set; }
    }

    private sealed class Settings
    {
        public int MinYear { get; init; }
    }

    private static readonly CollectionModel Model = new VectorStoreDbModelBuilder().Build(typeof(Book), typeof(string), null, null);

    private static string? Translate(Expression<Func<Book, bool>> filter) => FilterTranslator.Translate(filter, Model, nameof(Book.Text));

    public static TheoryData<Expression<Func<Book, bool>>, string> Cases() => new()
    {
        { r => r.Category == "x", """{"Category":"x"}""" },
        { r => r.Category != "x", """{"Category":{"$ne":"x"}}""" },
        { r => r.Year < 2020, """{"year":{"$lt":2020}}""" },
        { r => r.Year <= 2020, """{"year":{"$lte":2020}}""" },
        { r => r.Year > 2020, """{"year":{"$gt":2020}}""" },
        { r => r.Year >= 2020, """{"year":{"$gte":2020}}""" },
        { r => 2020 <= r.Year, """{"year":{"$gte":2020}}""" },
        { r => 2020 > r.Year, """{"year":{"$lt":2020}}""" },
        { r => r.Category == "x" && r.Year >= 2020, """{"$and":[{"Category":"x"},{"year":{"$gte":2020}}]}""" },
        { r => r.Category == "x" && r.Year >= 2020 && r.InPrint, """{"$and":[{"Category":"x"},{"year":{"$gte":2020}},{"InPrint":true}]}""" },
        { r => r.Category == "x" || r.Category == "y", """{"$or":[{"Category":"x"},{"Category":"y"}]}""" },
        { r => r.Year > 2000 && (r.Category == "x" || !r.InPrint), """{"$and":[{"year":{"$gt":2000}},{"$or":[{"Category":"x"},{"InPrint":false}]}]}""" },
        { r => !(r.Category == "x"), """{"$not":{"Category":"x"}}""" },
        { r => r.InPrint, """{"InPrint":true}""" },
        { r => !r.InPrint, """{"InPrint":false}""" },
        { r => r.InPrint == false, """{"InPrint":false}""" },
        { r => r.Tags.Contains("new"), """{"Tags":"new"}""" },
        { r => new[] { "a", "b" }.Contains(r.Category), """{"Category":{"$in":["a","b"]}}""" },
        { r => new List<int> { 1999, 2001 }.Contains(r.Year), """{"year":{"$in":[1999,2001]}}""" },
        { r => r.Pages >= 100, """{"Pages":{"$gte":100}}""" },
        { r => r.Rating > 4.5, """{"Rating":{"$gt":4.5}}""" },
        { r => r.Price < 10.5m, """{"Price":{"$lt":10.5}}""" },
        { r => r.Published >= new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.FromHours(2)), """{"Published":{"$gte":"2019-12-31T22:00:00.0000000Z"}}""" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Translates_to_exact_json(Expression<Func<Book, bool>> filter, string expected) => Assert.Equal(expected, Translate(filter));

    [Fact]
    public void Captured_variables_and_members_are_evaluated()
    {
        int min = 2000;
        var settings = new Settings { MinYear = 2010 };
        string[] categories = ["a", "b"];
        var tag = "new";
        Assert.Equal("""{"year":{"$gt":2000}}""", Translate(r => r.Year > min));
        Assert.Equal("""{"year":{"$gte":2010}}""", Translate(r => r.Year >= settings.MinYear));
        Assert.Equal("""{"Category":{"$in":["a","b"]}}""", Translate(r => categories.Contains(r.Category)));
        Assert.Equal("""{"Tags":"new"}""", Translate(r => r.Tags.Contains(tag)));
        min = 1990; // evaluated per translation, not cached
        Assert.Equal("""{"year":{"$gt":1990}}""", Translate(r => r.Year > min));
    }

    [Fact]
    public void Constant_true_means_no_filter() => Assert.Null(Translate(r => true));

    [Theory]
    [MemberData(nameof(Unsupported))]
    public void Untranslatable_expressions_are_refused_naming_the_expression(Expression<Func<Book, bool>> filter, string fragment)
    {
        var error = Assert.Throws<NotSupportedException>(() => Translate(filter));
        Assert.Contains(fragment, error.Message);
    }

    public static TheoryData<Expression<Func<Book, bool>>, string> Unsupported() => new()
    {
        { r => r.Category.StartsWith("x"), "StartsWith" },
        { r => r.Year + 1 > 2000, "(r.Year + 1)" },
        { r => r.Category == null!, "null" },
        { r => r.Id == "x", "key property 'Id'" },
        { r => r.Text == "x", "document text" },
        { r => r.Category.Contains('x'), "Contains" },
    };

    /// <summary>The translated filter, run by the engine's own filter over the stored metadata, selects exactly what the predicate does.</summary>
    [Theory]
    [MemberData(nameof(Cases))]
    public void Translated_filter_selects_what_the_predicate_selects(Expression<Func<Book, bool>> filter, string json)
    {
        var compiled = filter.Compile();
        var engineFilter = MetadataFilter.Parse(JsonDocument.Parse(json).RootElement);
        int matched = 0;
        foreach (var book in Books)
        {
            var metadata = Metadata.FromObjects(Model.DataProperties
                .Where(p => p.ModelName != nameof(Book.Text))
                .Select(p => KeyValuePair.Create(p.StorageName, StorageValues.ToStorage(p.GetValueAsObject(book))))
                .Where(kv => kv.Value is not null), "metadata");
            bool expected = compiled(book);
            Assert.True(expected == engineFilter.Matches(metadata), $"{filter} on book {book.Id}: expected {expected}");
            matched += expected ? 1 : 0;
        }
        Assert.InRange(matched, 0, Books.Length);
    }

    private static readonly Book[] Books =
    [
        new() { Id = "1", Category = "x", Year = 2021, Pages = 120, Rating = 4.8, InPrint = true, Tags = ["new", "hot"], Published = new DateTimeOffset(2021, 3, 1, 0, 0, 0, TimeSpan.Zero), Price = 9.99m },
        new() { Id = "2", Category = "y", Year = 2019, Pages = null, Rating = 3.1, InPrint = false, Tags = ["old"], Published = new DateTimeOffset(2019, 12, 31, 23, 0, 0, TimeSpan.Zero), Price = 25m },
        new() { Id = "3", Category = "a", Year = 2020, Pages = 80, Rating = 4.5, InPrint = true, Tags = [], Published = new DateTimeOffset(2020, 1, 1, 1, 0, 0, TimeSpan.FromHours(2)), Price = 10.5m },
        new() { Id = "4", Category = "x", Year = 1999, Pages = 300, Rating = 5, InPrint = false, Tags = ["new"], Published = new DateTimeOffset(1999, 6, 1, 0, 0, 0, TimeSpan.Zero), Price = 1m },
        new() { Id = "5", Category = "b", Year = 2001, Pages = 100, Rating = 2, InPrint = true, Tags = ["hot"], Published = new DateTimeOffset(2001, 6, 1, 0, 0, 0, TimeSpan.Zero), Price = 100m },
    ];
}
