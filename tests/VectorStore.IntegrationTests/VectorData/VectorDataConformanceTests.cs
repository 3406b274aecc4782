using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData;
using VectorStoreDb.Client;
using VectorStoreDb.Client.VectorData;

namespace VectorStoreDb.IntegrationTests.VectorData;

/// <summary>
/// The Microsoft.Extensions.VectorData connector's behaviour, written once against <see cref="IVectorStoreClient"/>
/// and run over the embedded store and over the gRPC client against a real server. Every test uses collections
/// with fresh names, so one server serves them all.
/// </summary>
public abstract class VectorDataConformanceTests : IDisposable
{
    private IVectorStoreClient? _client;

    protected abstract IVectorStoreClient CreateClient();

    protected IVectorStoreClient Client => _client ??= CreateClient();

    private VectorStoreDbVectorStore Store => new(Client);

    private static string NewName() => $"mevd-{Guid.NewGuid():N}";

    public sealed class Product
    {
        [VectorStoreKey]
        public string Id { get; set; } = "";

        [VectorStoreData(IsIndexed = true)]
        public string Category { get; set; } = "";

        [VectorStoreData(StorageName = "year")]
        public int Year { get; set; }

        [VectorStoreData]
        public long Stock { get; set; }

        [VectorStoreData]
        public double Rating { get; set; }

        [VectorStoreData]
        public float Weight { get; set; }

        [VectorStoreData]
        public bool InStock { get; set; }

        [VectorStoreData]
        public decimal? Price { get; set; }

        [VectorStoreData]
        public int? Discount { get; set; }

        [VectorStoreData]
        public DateTimeOffset? Released { get; set; }

        [VectorStoreData]
        public string[] Tags { get; set; } = [];

        [VectorStoreData]
        public List<int> Sizes { get; set; } = [];

        [VectorStoreData(IsFullTextIndexed = true)]
        public string? Description { get; set; }

        [VectorStoreVector(3, DistanceFunction = DistanceFunction.CosineSimilarity)]
        public ReadOnlyMemory<float> Vector { get; set; }
    }

    public sealed class Point
    {
        public Guid Id { get; set; }

        public string Label { get; set; } = "";

        public float[]? Vector { get; set; }
    }

    public sealed class Note
    {
        [VectorStoreKey]
        public Guid Id { get; set; }

        [VectorStoreData(IsFullTextIndexed = true)]
        public string Text { get; set; } = "";

        [VectorStoreData]
        public string Kind { get; set; } = "";

        /// <summary>Embedded from this string by the configured generator.</summary>
        [VectorStoreVector(32)]
        public string Embedding { get; set; } = "";
    }

    public sealed class Article
    {
        [VectorStoreKey]
        public string Key { get; set; } = "";

        [VectorStoreData(IsFullTextIndexed = true)]
        public string Body { get; set; } = "";

        [VectorStoreData(IsIndexed = true)]
        public string Topic { get; set; } = "";
    }

    private static Product NewProduct(string id, string category, int year, float[] vector, params string[] tags) => new()
    {
        Id = id,
        Category = category,
        Year = year,
        Stock = 5_000_000_000L,
        Rating = 4.25,
        Weight = 0.5f,
        InStock = year % 2 == 0,
        Price = 19.99m,
        Released = new DateTimeOffset(year, 3, 4, 5, 6, 7, TimeSpan.FromHours(1)),
        Tags = tags,
        Sizes = [36, 38],
        Description = $"{category} from {year}",
        Vector = vector,
    };

    private async Task<VectorStoreCollection<string, Product>> ProductsAsync(params Product[] products)
    {
        var collection = Store.GetCollection<string, Product>(NewName());
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(products);
        return collection;
    }

    private static Product[] Catalog() =>
    [
        NewProduct("p1", "shoes", 2021, [1, 0, 0], "new", "sale"),
        NewProduct("p2", "shoes", 2019, [0.9f, 0.1f, 0], "old"),
        NewProduct("p3", "hats", 2022, [0, 1, 0], "new"),
        NewProduct("p4", "hats", 2018, [0, 0.9f, 0.1f]),
        NewProduct("p5", "bags", 2020, [0, 0, 1], "sale"),
    ];

    // ---------------------------------------------------------------- collections

    [Fact]
    public async Task Collections_are_created_listed_and_deleted_idempotently()
    {
        var store = Store;
        string name = NewName();
        var collection = store.GetCollection<string, Product>(name);

        Assert.False(await collection.CollectionExistsAsync());
        Assert.False(await store.CollectionExistsAsync(name));

        await collection.EnsureCollectionExistsAsync();
        await collection.EnsureCollectionExistsAsync();

        Assert.True(await collection.CollectionExistsAsync());
        Assert.True(await store.CollectionExistsAsync(name));
        Assert.Contains(name, await store.ListCollectionNamesAsync().CollectAsync());
        var description = await Client.GetCollectionAsync(name);
        Assert.Equal(3, description.Dimension);
        Assert.Equal(DistanceMetric.Cosine, description.Metric);

        await store.EnsureCollectionDeletedAsync(name);
        await store.EnsureCollectionDeletedAsync(name);
        await collection.EnsureCollectionDeletedAsync();

        Assert.False(await collection.CollectionExistsAsync());
        Assert.DoesNotContain(name, await store.ListCollectionNamesAsync().CollectAsync());
    }

    [Fact]
    public async Task Metadata_and_client_are_available_as_services()
    {
        string name = NewName();
        var collection = Store.GetCollection<string, Product>(name);

        var metadata = collection.GetService(typeof(VectorStoreCollectionMetadata)) as VectorStoreCollectionMetadata;
        Assert.NotNull(metadata);
        Assert.Equal("vectorstore", metadata.VectorStoreSystemName);
        Assert.Equal(name, metadata.CollectionName);
        Assert.Same(Client, collection.GetService(typeof(IVectorStoreClient)));
        Assert.Equal("vectorstore", Assert.IsType<VectorStoreMetadata>(Store.GetService(typeof(VectorStoreMetadata))).VectorStoreSystemName);
    }

    // ---------------------------------------------------------------- CRUD

    [Fact]
    public async Task A_record_round_trips_every_data_type()
    {
        var product = NewProduct("p1", "shoes", 2021, [0.6f, 0.8f, 0], "new", "sale");
        var collection = await ProductsAsync(product);

        var back = await collection.GetAsync("p1", new RecordRetrievalOptions { IncludeVectors = true });

        Assert.NotNull(back);
        Assert.Equal(product.Id, back.Id);
        Assert.Equal(product.Category, back.Category);
        Assert.Equal(product.Year, back.Year);
        Assert.Equal(product.Stock, back.Stock);
        Assert.Equal(product.Rating, back.Rating);
        Assert.Equal(product.Weight, back.Weight);
        Assert.Equal(product.InStock, back.InStock);
        Assert.Equal(product.Price, back.Price);
        Assert.Null(back.Discount);
        Assert.Equal(product.Released, back.Released);
        Assert.Equal(product.Tags, back.Tags);
        Assert.Equal(product.Sizes, back.Sizes);
        Assert.Equal(product.Description, back.Description);
        Assert.Equal(product.Vector.ToArray(), back.Vector.ToArray(), (a, b) => Math.Abs(a - b) < 1e-5);

        var withoutVector = await collection.GetAsync("p1");
        Assert.True(withoutVector!.Vector.IsEmpty);

        // The description is the document text, so the store's own view has it as text, not metadata.
        var document = await Client.GetDocumentAsync(collection.Name, "p1");
        Assert.Equal("shoes from 2021", document.Text);
        Assert.False(document.Metadata.ContainsKey(nameof(Product.Description)));
        Assert.Equal(2021.0, document.Metadata["year"]);
        Assert.Equal("2021-03-04T04:06:07.0000000Z", document.Metadata[nameof(Product.Released)]);
    }

    [Fact]
    public async Task Upsert_many_get_by_keys_replace_and_delete()
    {
        var collection = await ProductsAsync(Catalog());
        Assert.Equal(5, await Client.CountAsync(collection.Name));

        var some = await collection.GetAsync(["p3", "missing", "p1"]).CollectAsync();
        Assert.Equal(["p3", "p1"], some.Select(p => p.Id));
        Assert.Null(await collection.GetAsync("missing"));

        var replacement = NewProduct("p1", "boots", 2024, [1, 0, 0]);
        await collection.UpsertAsync(replacement);
        Assert.Equal("boots", (await collection.GetAsync("p1"))!.Category);
        Assert.Equal(5, await Client.CountAsync(collection.Name));

        await collection.DeleteAsync("p1");
        await collection.DeleteAsync("p1");
        Assert.Null(await collection.GetAsync("p1"));

        await collection.DeleteAsync(["p2", "p3", "missing"]);
        Assert.Equal(["p4", "p5"], (await collection.GetAsync(["p2", "p3", "p4", "p5"]).CollectAsync()).Select(p => p.Id));
    }

    [Fact]
    public async Task Guid_keys_are_generated_for_empty_keys_and_written_back()
    {
        var collection = Store.GetCollection<Guid, Point>(NewName(), PointDefinition(DistanceFunction.EuclideanDistance, IndexKind.Flat));
        await collection.EnsureCollectionExistsAsync();
        var known = Guid.NewGuid();
        var points = new[] { new Point { Label = "a", Vector = [1, 2, 3] }, new Point { Id = known, Label = "b", Vector = [3, 2, 1] } };

        await collection.UpsertAsync(points);

        Assert.NotEqual(Guid.Empty, points[0].Id);
        Assert.Equal(known, points[1].Id);
        Assert.Equal("a", (await collection.GetAsync(points[0].Id))!.Label);
        Assert.Equal("b", (await collection.GetAsync(known))!.Label);
    }

    // ---------------------------------------------------------------- distance functions and index kinds

    private static VectorStoreCollectionDefinition PointDefinition(string distanceFunction, string indexKind) => new()
    {
        Properties =
        [
            new VectorStoreKeyProperty(nameof(Point.Id), typeof(Guid)),
            new VectorStoreDataProperty(nameof(Point.Label), typeof(string)) { IsIndexed = true },
            new VectorStoreVectorProperty(nameof(Point.Vector), typeof(float[]), 3) { DistanceFunction = distanceFunction, IndexKind = indexKind },
        ],
    };

    [Theory]
    [InlineData(DistanceFunction.CosineSimilarity, IndexKind.Hnsw, DistanceMetric.Cosine, "hnsw")]
    [InlineData(DistanceFunction.CosineSimilarity, IndexKind.Flat, DistanceMetric.Cosine, "exact")]
    [InlineData(DistanceFunction.DotProductSimilarity, IndexKind.Hnsw, DistanceMetric.Dot, "hnsw")]
    [InlineData(DistanceFunction.DotProductSimilarity, IndexKind.Flat, DistanceMetric.Dot, "exact")]
    [InlineData(DistanceFunction.EuclideanDistance, IndexKind.Hnsw, DistanceMetric.L2, "hnsw")]
    [InlineData(DistanceFunction.EuclideanDistance, IndexKind.Flat, DistanceMetric.L2, "exact")]
    public async Task Each_distance_function_and_index_kind_ranks_and_scores(string distanceFunction, string indexKind, DistanceMetric metric, string index)
    {
        string name = NewName();
        var collection = Store.GetCollection<Guid, Point>(name, PointDefinition(distanceFunction, indexKind));
        await collection.EnsureCollectionExistsAsync();
        var description = await Client.GetCollectionAsync(name);
        Assert.Equal(metric, description.Metric);
        Assert.Equal(index, description.Index);

        float[][] vectors = [[1, 0, 0], [2, 2, 0], [0, 0, 3], [0.5f, 0.5f, 0.5f]];
        var points = vectors.Select((v, i) => new Point { Id = Guid.NewGuid(), Label = $"p{i}", Vector = v }).ToArray();
        await collection.UpsertAsync(points);

        float[] query = [1, 1, 0];
        var results = await collection.SearchAsync(query, 4).CollectAsync();

        // Expected order and scores computed here from the definitions of the three functions.
        double Score(float[] v) => distanceFunction switch
        {
            DistanceFunction.CosineSimilarity => Dot(v, query) / (Norm(v) * Norm(query)),
            DistanceFunction.DotProductSimilarity => Dot(v, query),
            _ => Math.Sqrt(v.Zip(query, (a, b) => (a - b) * (a - b)).Sum()),
        };
        bool lowerIsCloser = distanceFunction == DistanceFunction.EuclideanDistance;
        var expected = points.Select(p => (p.Label, Score: Score(p.Vector!)))
            .OrderBy(x => lowerIsCloser ? x.Score : -x.Score).ThenBy(x => x.Label).ToList();
        Assert.Equal(4, results.Count);
        Assert.Equal(expected[0].Label, results[0].Record.Label);
        for (int i = 0; i < results.Count; i++)
        {
            var want = expected.Single(e => e.Label == results[i].Record.Label).Score;
            Assert.Equal(want, results[i].Score!.Value, 3);
        }
        var scores = results.Select(r => r.Score!.Value).ToList();
        Assert.Equal(lowerIsCloser ? scores.Order() : scores.OrderDescending(), scores);
    }

    private static double Dot(float[] a, float[] b) => a.Zip(b, (x, y) => (double)x * y).Sum();

    private static double Norm(float[] a) => Math.Sqrt(Dot(a, a));

    public sealed class IntKeyRecord
    {
        [VectorStoreKey]
        public int Id { get; set; }

        [VectorStoreVector(3)]
        public ReadOnlyMemory<float> Vector { get; set; }
    }

    [Fact]
    public void Unsupported_keys_distance_functions_and_index_kinds_are_refused_by_name()
    {
        var store = Store;
        var key = Assert.Throws<NotSupportedException>(() => store.GetCollection<int, IntKeyRecord>(NewName()));
        Assert.Contains("Int32", key.Message);

        var distance = Assert.Throws<NotSupportedException>(() => store.GetCollection<Guid, Point>(NewName(), PointDefinition(DistanceFunction.ManhattanDistance, IndexKind.Hnsw)));
        Assert.Contains(DistanceFunction.ManhattanDistance, distance.Message);

        var index = Assert.Throws<NotSupportedException>(() => store.GetCollection<Guid, Point>(NewName(), PointDefinition(DistanceFunction.CosineSimilarity, IndexKind.IvfFlat)));
        Assert.Contains(IndexKind.IvfFlat, index.Message);
    }

    // ---------------------------------------------------------------- search and filtered get

    [Fact]
    public async Task Search_accepts_every_vector_type_and_applies_filter_skip_and_threshold()
    {
        var collection = await ProductsAsync(Catalog());
        float[] query = [1, 0.05f, 0];

        var byMemory = await collection.SearchAsync(new ReadOnlyMemory<float>(query), 2).CollectAsync();
        var byArray = await collection.SearchAsync(query, 2).CollectAsync();
        var byEmbedding = await collection.SearchAsync(new Embedding<float>(query), 2).CollectAsync();
        Assert.Equal(["p1", "p2"], byMemory.Select(r => r.Record.Id));
        Assert.Equal(["p1", "p2"], byArray.Select(r => r.Record.Id));
        Assert.Equal(["p1", "p2"], byEmbedding.Select(r => r.Record.Id));
        Assert.True(byArray[0].Score > byArray[1].Score);
        Assert.Equal("shoes", byArray[0].Record.Category);
        Assert.True(byArray[0].Record.Vector.IsEmpty);

        var hats = await collection.SearchAsync(query, 5, new VectorSearchOptions<Product> { Filter = p => p.Category == "hats" }).CollectAsync();
        Assert.Equal(["p3", "p4"], hats.Select(r => r.Record.Id));

        var recentOrSale = await collection.SearchAsync(query, 5, new VectorSearchOptions<Product>
        {
            Filter = p => p.Year >= 2021 || p.Tags.Contains("sale"),
        }).CollectAsync();
        Assert.Equal(["p1", "p3", "p5"], recentOrSale.Select(r => r.Record.Id).Order());

        var skipped = await collection.SearchAsync(query, 2, new VectorSearchOptions<Product> { Skip = 1, IncludeVectors = true }).CollectAsync();
        var three = await collection.SearchAsync(query, 3).CollectAsync();
        Assert.Equal(three.Skip(1).Select(r => r.Record.Id), skipped.Select(r => r.Record.Id));
        Assert.False(skipped[0].Record.Vector.IsEmpty);

        var close = await collection.SearchAsync(query, 5, new VectorSearchOptions<Product> { ScoreThreshold = 0.9 }).CollectAsync();
        Assert.Equal(["p1", "p2"], close.Select(r => r.Record.Id));
    }

    [Fact]
    public async Task Get_by_filter_honours_top_skip_and_order()
    {
        var collection = await ProductsAsync(Catalog());
        var categories = new[] { "shoes", "bags" };

        var all = await collection.GetAsync(p => categories.Contains(p.Category), 10).CollectAsync();
        Assert.Equal(["p1", "p2", "p5"], all.Select(p => p.Id).Order());

        var ordered = await collection.GetAsync(p => p.Year > 2000, 3, new FilteredRecordRetrievalOptions<Product>
        {
            OrderBy = o => o.Descending(p => p.Year),
            Skip = 1,
        }).CollectAsync();
        Assert.Equal(["p1", "p5", "p2"], ordered.Select(p => p.Id));

        var byTwo = await collection.GetAsync(p => p.Category != "bags", 10, new FilteredRecordRetrievalOptions<Product>
        {
            OrderBy = o => o.Ascending(p => p.Category).Descending(p => p.Year),
        }).CollectAsync();
        Assert.Equal(["p3", "p4", "p1", "p2"], byTwo.Select(p => p.Id));

        var top = await collection.GetAsync(p => !p.InStock, 2).CollectAsync();
        Assert.Equal(2, top.Count);
        Assert.All(top, p => Assert.False(p.InStock));

        Assert.Empty(await collection.GetAsync(p => p.Category == "nothing", 5).CollectAsync());
    }

    /// <summary>The collection of <paramref name="products"/> seen through a client that records the connector's calls.</summary>
    private async Task<(VectorStoreCollection<string, Product> Collection, CallRecordingClient Calls)> RecordedProductsAsync(IReadOnlyList<Product> products)
    {
        var collection = Store.GetCollection<string, Product>(NewName());
        await collection.EnsureCollectionExistsAsync();
        foreach (var chunk in products.Chunk(500))
        {
            await collection.UpsertAsync(chunk);
        }
        var (client, calls) = CallRecordingClient.Wrap(Client);
        return (new VectorStoreDbVectorStore(client).GetCollection<string, Product>(collection.Name), calls);
    }

    /// <summary>
    /// <paramref name="count"/> products: year 2000 + i % 13 (many ties), a discount on every third only, ids q0000….
    /// </summary>
    private static Product[] ManyProducts(int count) =>
    [
        .. Enumerable.Range(0, count).Select(i =>
        {
            var product = NewProduct($"q{i:D4}", i % 2 == 0 ? "even" : "odd", 2000 + i % 13, [1, i, 0]);
            product.Discount = i % 3 == 0 ? i % 11 : null;
            return product;
        }),
    ];

    [Fact]
    public async Task Get_by_keys_is_one_batch_call_per_thousand_keys_in_key_order()
    {
        var (collection, calls) = await RecordedProductsAsync(ManyProducts(2100));
        var keys = Enumerable.Range(0, 2300).Select(i => $"q{(i * 7919) % 2300:D4}").ToList();

        var found = await collection.GetAsync(keys, new RecordRetrievalOptions { IncludeVectors = true }).CollectAsync();

        Assert.Equal(keys.Where(k => string.CompareOrdinal(k, "q2100") < 0), found.Select(p => p.Id));
        // Cosine collections keep unit vectors: [1, 42, 0] comes back scaled to length one.
        var vector = found.Single(p => p.Id == "q0042").Vector.ToArray();
        float length = MathF.Sqrt(1 + 42 * 42);
        Assert.Equal(1 / length, vector[0], 1e-5f);
        Assert.Equal(42 / length, vector[1], 1e-5f);
        Assert.Equal(0f, vector[2]);
        Assert.Equal(3, calls.CallsTo(nameof(IVectorStoreClient.GetDocumentsAsync)).Count);
        Assert.Empty(calls.CallsTo(nameof(IVectorStoreClient.GetDocumentAsync)));
    }

    [Fact]
    public async Task Get_by_filter_pushes_the_filter_and_the_order_down_and_never_searches()
    {
        var (collection, calls) = await RecordedProductsAsync(ManyProducts(300));

        var odd2005 = await collection.GetAsync(p => p.Category == "odd" && p.Year >= 2005, 1000, new FilteredRecordRetrievalOptions<Product>
        {
            OrderBy = o => o.Descending(p => p.Year),
        }).CollectAsync();

        var expected = ManyProducts(300).Where(p => p.Category == "odd" && p.Year >= 2005).OrderByDescending(p => p.Year).ThenBy(p => p.Id, StringComparer.Ordinal);
        Assert.Equal(expected.Select(p => p.Id), odd2005.Select(p => p.Id));
        var scroll = (ScrollQuery)Assert.Single(calls.CallsTo(nameof(IVectorStoreClient.ScrollAsync)))[1]!;
        Assert.Contains("\"odd\"", scroll.Filter, StringComparison.Ordinal);
        Assert.Contains("2005", scroll.Filter, StringComparison.Ordinal);
        Assert.Equal(new DocumentOrder("year", Descending: true), scroll.OrderBy);
        Assert.Empty(calls.CallsTo(nameof(IVectorStoreClient.QueryAsync)));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Get_by_filter_orders_by_a_field_across_pages_with_skip_and_top(bool ascending)
    {
        var all = ManyProducts(2500);
        var (collection, calls) = await RecordedProductsAsync(all);
        var expected = (ascending ? all.OrderBy(p => p.Year) : all.OrderByDescending(p => p.Year)).ThenBy(p => p.Id, StringComparer.Ordinal).ToList();

        var page = await collection.GetAsync(p => p.Year > 0, 15, new FilteredRecordRetrievalOptions<Product>
        {
            OrderBy = o => ascending ? o.Ascending(p => p.Year) : o.Descending(p => p.Year),
            Skip = 1980,
        }).CollectAsync();

        Assert.Equal(expected.Skip(1980).Take(15).Select(p => p.Id), page.Select(p => p.Id));
        // Skip spans two pages of the store's largest page size, and the third page is not read.
        Assert.Equal(2, calls.CallsTo(nameof(IVectorStoreClient.ScrollAsync)).Count);

        var tail = await collection.GetAsync(p => p.Year > 0, 100, new FilteredRecordRetrievalOptions<Product>
        {
            OrderBy = o => ascending ? o.Ascending(p => p.Year) : o.Descending(p => p.Year),
            Skip = 2450,
        }).CollectAsync();
        Assert.Equal(expected.Skip(2450).Select(p => p.Id), tail.Select(p => p.Id));
    }

    [Fact]
    public async Task Get_by_filter_orders_missing_values_last_and_breaks_ties_with_further_keys()
    {
        var all = ManyProducts(60);
        var (collection, _) = await RecordedProductsAsync(all);

        foreach (bool ascending in new[] { true, false })
        {
            var ordered = await collection.GetAsync(p => p.Year > 0, 100, new FilteredRecordRetrievalOptions<Product>
            {
                OrderBy = o => ascending ? o.Ascending(p => p.Discount).Descending(p => p.Id) : o.Descending(p => p.Discount).Descending(p => p.Id),
            }).CollectAsync();

            var withDiscount = all.Where(p => p.Discount is not null);
            var expected = (ascending ? withDiscount.OrderBy(p => p.Discount) : withDiscount.OrderByDescending(p => p.Discount))
                .ThenByDescending(p => p.Id, StringComparer.Ordinal)
                .Concat(all.Where(p => p.Discount is null).OrderByDescending(p => p.Id, StringComparer.Ordinal));
            Assert.Equal(expected.Select(p => p.Id), ordered.Select(p => p.Id));
        }

        // Without an order, records come in key order; by the key descending they are ordered here.
        var byKey = await collection.GetAsync(p => p.Category == "even", 100).CollectAsync();
        Assert.Equal(all.Where(p => p.Category == "even").Select(p => p.Id), byKey.Select(p => p.Id));
        var byKeyDescending = await collection.GetAsync(p => p.Category == "even", 5, new FilteredRecordRetrievalOptions<Product>
        {
            OrderBy = o => o.Descending(p => p.Id),
            Skip = 2,
        }).CollectAsync();
        Assert.Equal(all.Where(p => p.Category == "even").Select(p => p.Id).OrderDescending(StringComparer.Ordinal).Skip(2).Take(5), byKeyDescending.Select(p => p.Id));
    }

    /// <summary>
    /// Every operator the translator supports, as the official suite checks them: each filter's answer from the store
    /// equals LINQ to objects over the same records, both for get-by-filter and as a vector search's pre-filter.
    /// </summary>
    [Fact]
    public async Task Each_filter_operator_matches_linq_to_objects()
    {
        var catalog = Catalog();
        var collection = await ProductsAsync(catalog);
        string wanted = "hats";
        string[] someCategories = ["hats", "bags"];
        List<string> listed = ["shoes"];
        System.Linq.Expressions.Expression<Func<Product, bool>>[] filters =
        [
            p => p.Category == "shoes",
            p => p.Category != "shoes",
            p => p.Category == wanted,
            p => p.Year > 2020,
            p => p.Year >= 2020,
            p => p.Year < 2020,
            p => p.Year <= 2020,
            p => 2020 < p.Year,
            p => p.Rating == 4.25,
            p => p.Stock >= 5_000_000_000L,
            p => p.Weight < 1f,
            p => p.InStock,
            p => !p.InStock,
            p => p.InStock == false,
            p => p.Category == "hats" && p.Year > 2019,
            p => p.Category == "bags" || p.Year < 2019,
            p => !(p.Category == "shoes"),
            p => !(p.Category == "shoes" || p.Year > 2021),
            p => (p.Category == "shoes" || p.Category == "hats") && !(p.Year == 2018),
            p => p.Tags.Contains("new"),
            p => p.Sizes.Contains(38),
            p => someCategories.Contains(p.Category),
            p => listed.Contains(p.Category),
        ];
        var failures = new List<string>();
        foreach (var filter in filters)
        {
            var expected = catalog.Where(filter.Compile()).Select(p => p.Id).Order().ToList();
            var got = (await collection.GetAsync(filter, 10).CollectAsync()).Select(p => p.Id).Order().ToList();
            var searched = (await collection.SearchAsync(new float[] { 1, 1, 1 }, 10, new VectorSearchOptions<Product> { Filter = filter }).CollectAsync())
                .Select(r => r.Record.Id).Order().ToList();
            if (!expected.SequenceEqual(got) || !expected.SequenceEqual(searched))
            {
                failures.Add($"{filter}: expected [{string.Join(",", expected)}], get gave [{string.Join(",", got)}], search gave [{string.Join(",", searched)}]");
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    public sealed class TwoVectors
    {
        [VectorStoreKey]
        public string Id { get; set; } = "";

        [VectorStoreVector(3)]
        public float[]? Title { get; set; }

        [VectorStoreVector(3)]
        public float[]? Body { get; set; }
    }

    /// <summary>A document holds one vector: a record type with two is refused when its collection is made, naming it.</summary>
    [Fact]
    public void A_record_with_several_vectors_is_refused()
    {
        var error = Record.Exception(() => Store.GetCollection<string, TwoVectors>(NewName()));

        Assert.True(error is NotSupportedException or InvalidOperationException, $"expected a refusal, got {error}");
        Assert.Contains("vector", error!.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Untranslatable_filters_are_refused_with_the_expression()
    {
        var collection = await ProductsAsync(Catalog());

        var error = await Assert.ThrowsAsync<NotSupportedException>(() => collection.GetAsync(p => p.Category.EndsWith("s"), 5).CollectAsync());
        Assert.Contains("EndsWith", error.Message);
    }

    // ---------------------------------------------------------------- dynamic collections

    [Fact]
    public async Task Dynamic_collections_use_dictionaries()
    {
        var definition = new VectorStoreCollectionDefinition
        {
            Properties =
            [
                new VectorStoreKeyProperty("Key", typeof(string)),
                new VectorStoreDataProperty("Category", typeof(string)) { IsIndexed = true },
                new VectorStoreDataProperty("Year", typeof(int)),
                new VectorStoreDataProperty("Tags", typeof(List<string>)),
                new VectorStoreVectorProperty("Vector", typeof(ReadOnlyMemory<float>), 3) { DistanceFunction = DistanceFunction.DotProductSimilarity },
            ],
        };
        var collection = Store.GetDynamicCollection(NewName(), definition);
        await collection.EnsureCollectionExistsAsync();

        await collection.UpsertAsync(
        [
            new() { ["Key"] = "a", ["Category"] = "x", ["Year"] = 2020, ["Tags"] = new List<string> { "t1" }, ["Vector"] = new ReadOnlyMemory<float>([1, 0, 0]) },
            new() { ["Key"] = "b", ["Category"] = "y", ["Year"] = 2022, ["Tags"] = new List<string>(), ["Vector"] = new ReadOnlyMemory<float>([0, 1, 0]) },
        ]);

        var a = await collection.GetAsync("a");
        Assert.NotNull(a);
        Assert.Equal("x", a["Category"]);
        Assert.Equal(2020, a["Year"]);
        Assert.Equal(["t1"], Assert.IsType<List<string>>(a["Tags"]));

        var hits = await collection.SearchAsync(new ReadOnlyMemory<float>([0, 1, 0]), 2).CollectAsync();
        Assert.Equal("b", hits[0].Record["Key"]);
        Assert.Equal(1.0, hits[0].Score!.Value, 4);

        var filtered = await collection.GetAsync(r => (string)r["Category"]! == "x", 5).CollectAsync();
        Assert.Equal("a", Assert.Single(filtered)["Key"]);

        await collection.DeleteAsync("a");
        Assert.Null(await collection.GetAsync("a"));
    }

    // ---------------------------------------------------------------- embeddings

    [Fact]
    public async Task An_embedding_generator_embeds_records_and_text_queries()
    {
        var generator = new HashingEmbeddingGenerator(32);
        var store = new VectorStoreDbVectorStore(Client, new VectorStoreDbVectorStoreOptions { EmbeddingGenerator = generator });
        var collection = store.GetCollection<Guid, Note>(NewName());
        await collection.EnsureCollectionExistsAsync();
        string[] texts = ["the cat sat on the mat", "stock markets fell sharply today", "a dog chased the cat"];
        var notes = texts.Select((t, i) => new Note { Id = Guid.NewGuid(), Text = t, Kind = i == 1 ? "news" : "pets", Embedding = t }).ToArray();

        await collection.UpsertAsync(notes);

        var results = await collection.SearchAsync("markets fell", 3).CollectAsync();
        Assert.Equal(notes[1].Id, results[0].Record.Id);
        Assert.Equal("stock markets fell sharply today", results[0].Record.Text);
        var exact = await collection.SearchAsync("the cat sat on the mat", 1).CollectAsync();
        Assert.Equal(1.0, exact[0].Score!.Value, 4);

        var pets = await collection.SearchAsync("markets fell", 3, new VectorSearchOptions<Note> { Filter = n => n.Kind == "pets" }).CollectAsync();
        Assert.Equal(2, pets.Count);
        Assert.All(pets, r => Assert.Equal("pets", r.Record.Kind));

        // The stored vector is the generator's output for the text.
        var stored = await Client.GetDocumentAsync(collection.Name, notes[0].Id.ToString(), includeVector: true);
        Assert.Equal(generator.Embed(texts[0]), stored.Vector!, (a, b) => Math.Abs(a - b) < 1e-5);
        await Assert.ThrowsAsync<NotSupportedException>(() => collection.GetAsync(notes[0].Id, new RecordRetrievalOptions { IncludeVectors = true }));
    }

    [Fact]
    public async Task A_generator_embeds_text_queries_for_a_float_vector_property()
    {
        // Records carry their own vectors; the generator is only needed to turn a text query into one.
        var generator = new HashingEmbeddingGenerator(3);
        var store = new VectorStoreDbVectorStore(Client, new VectorStoreDbVectorStoreOptions { EmbeddingGenerator = generator });
        var collection = store.GetCollection<string, Product>(NewName());
        await collection.EnsureCollectionExistsAsync();
        var products = Catalog();
        await collection.UpsertAsync(products);

        var results = await collection.SearchAsync("wool hat", 5).CollectAsync();

        var query = generator.Embed("wool hat");
        // The hashed query may score several products equally; any of the tied best ones may come first.
        double bestScore = products.Max(p => Dot(p.Vector.ToArray(), query) / Norm(p.Vector.ToArray()));
        var best = products.Where(p => Math.Abs(Dot(p.Vector.ToArray(), query) / Norm(p.Vector.ToArray()) - bestScore) < 1e-5).Select(p => p.Id).ToArray();
        Assert.Equal(5, results.Count);
        Assert.Contains(results[0].Record.Id, best);
        Assert.Equal(1, generator.Calls);
    }

    [Fact]
    public async Task A_server_side_encoder_embeds_the_text_property_and_text_queries()
    {
        var collection = new VectorStoreDbCollection<string, Article>(Client, NewName(), new VectorStoreDbCollectionOptions { Encoder = "demo" });
        await collection.EnsureCollectionExistsAsync();
        Assert.Equal("demo", (await Client.GetCollectionAsync(collection.Name)).Encoder);
        await collection.UpsertAsync(
        [
            new Article { Key = "a1", Body = "The cat sat quietly on the warm mat", Topic = "pets" },
            new Article { Key = "a2", Body = "Central banks raised interest rates again", Topic = "finance" },
            new Article { Key = "a3", Body = "Puppies and kittens need regular vet visits", Topic = "pets" },
        ]);

        var results = await collection.SearchAsync("Central banks raised interest rates again", 3).CollectAsync();
        Assert.Equal("a2", results[0].Record.Key);
        Assert.Equal("Central banks raised interest rates again", results[0].Record.Body);
        Assert.Equal(1.0, results[0].Score!.Value, 3);

        var pets = await collection.SearchAsync("interest rates", 3, new VectorSearchOptions<Article> { Filter = a => a.Topic == "pets" }).CollectAsync();
        Assert.Equal(["a1", "a3"], pets.Select(r => r.Record.Key).Order());
    }

    [Fact]
    public async Task Text_search_without_an_encoder_or_generator_is_refused()
    {
        var collection = await ProductsAsync(Catalog());

        var error = await Assert.ThrowsAsync<NotSupportedException>(() => collection.SearchAsync("shoes", 3).CollectAsync());
        Assert.Contains("encoder", error.Message);
        await Assert.ThrowsAsync<NotSupportedException>(() => collection.SearchAsync(42, 3).CollectAsync());
    }

    // ---------------------------------------------------------------- hybrid search

    public sealed class Doc
    {
        [VectorStoreKey]
        public string Id { get; set; } = "";

        [VectorStoreData(IsFullTextIndexed = true)]
        public string Body { get; set; } = "";

        /// <summary>Full-text indexed too, but only the text property (Body) is the document text the store indexes.</summary>
        [VectorStoreData(IsFullTextIndexed = true)]
        public string Title { get; set; } = "";

        [VectorStoreData(IsIndexed = true)]
        public string Topic { get; set; } = "";

        [VectorStoreVector(3, DistanceFunction = DistanceFunction.CosineSimilarity, IndexKind = IndexKind.Flat)]
        public ReadOnlyMemory<float> Vector { get; set; }
    }

    private static readonly float[] HybridQuery = [1, 0, 0];

    private static readonly string[] HybridKeywords = ["waterproof", "boots"];

    /// <summary>
    /// Five documents close to <see cref="HybridQuery"/> that never mention the keywords, one far from it that has both
    /// keywords ("target"), and one far from it with one keyword ("winter").
    /// </summary>
    private static Doc[] HybridDocs() =>
    [
        new() { Id = "d1", Body = "red leather shoes for the office", Title = "office", Topic = "city", Vector = new float[] { 1, 0, 0 } },
        new() { Id = "d2", Body = "blue canvas sneakers with white laces", Title = "sneakers", Topic = "city", Vector = new float[] { 1, 0.1f, 0 } },
        new() { Id = "d3", Body = "light running shoes for the track", Title = "running", Topic = "sport", Vector = new float[] { 1, 0.2f, 0 } },
        new() { Id = "d4", Body = "soft slippers to wear at home", Title = "home", Topic = "city", Vector = new float[] { 1, 0.3f, 0.1f } },
        new() { Id = "d5", Body = "elegant sandals for summer evenings", Title = "sandals", Topic = "city", Vector = new float[] { 1, 0.4f, 0.2f } },
        new() { Id = "target", Body = "waterproof hiking boots for wet mountain trails", Title = "hiking", Topic = "outdoor", Vector = new float[] { 0.1f, 1, 0 } },
        new() { Id = "winter", Body = "warm boots lined with wool", Title = "winter", Topic = "city", Vector = new float[] { 0, 0.2f, 1 } },
    ];

    private async Task<VectorStoreCollection<string, Doc>> DocsAsync()
    {
        var collection = Store.GetCollection<string, Doc>(NewName());
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(HybridDocs());
        return collection;
    }

    private static IKeywordHybridSearchable<TRecord> Hybrid<TRecord>(VectorStoreCollection<string, TRecord> collection)
        where TRecord : class =>
        Assert.IsAssignableFrom<IKeywordHybridSearchable<TRecord>>(collection.GetService(typeof(IKeywordHybridSearchable<TRecord>)));

    [Fact]
    public async Task Hybrid_search_ranks_up_a_keyword_match_the_vector_alone_misses()
    {
        var collection = await DocsAsync();
        Assert.NotNull((await Client.GetCollectionAsync(collection.Name)).TextIndex);
        var hybrid = Hybrid(collection);
        Assert.Same(collection, hybrid);

        var dense = await collection.SearchAsync(HybridQuery, 3).CollectAsync();
        Assert.DoesNotContain("target", dense.Select(r => r.Record.Id));

        var results = await hybrid.HybridSearchAsync(HybridQuery, HybridKeywords, 3).CollectAsync();

        Assert.Equal(3, results.Count);
        Assert.Equal("target", results[0].Record.Id);
        Assert.Equal("waterproof hiking boots for wet mountain trails", results[0].Record.Body);
        Assert.Equal("hiking", results[0].Record.Title);
        Assert.True(results[0].Record.Vector.IsEmpty);
        var scores = results.Select(r => r.Score!.Value).ToList();
        Assert.Equal(scores.OrderDescending(), scores);
        Assert.True(scores[0] > scores[1]);

        // The dense side still counts: the closest vector outranks the one-keyword document that is far away.
        Assert.Equal("d1", results[1].Record.Id);
    }

    [Fact]
    public async Task Hybrid_search_applies_filter_top_skip_threshold_and_vectors()
    {
        var collection = await DocsAsync();
        var hybrid = Hybrid(collection);

        var city = await hybrid.HybridSearchAsync(HybridQuery, HybridKeywords, 10, new HybridSearchOptions<Doc> { Filter = d => d.Topic == "city" }).CollectAsync();
        Assert.Equal(["d1", "d2", "d4", "d5", "winter"], city.Select(r => r.Record.Id).Order());
        Assert.All(city, r => Assert.Equal("city", r.Record.Topic));

        var all = await hybrid.HybridSearchAsync(HybridQuery, HybridKeywords, 10).CollectAsync();
        Assert.Equal(7, all.Count);
        var two = await hybrid.HybridSearchAsync(HybridQuery, HybridKeywords, 2).CollectAsync();
        Assert.Equal(all.Take(2).Select(r => r.Record.Id), two.Select(r => r.Record.Id));

        var skipped = await hybrid.HybridSearchAsync(HybridQuery, HybridKeywords, 2, new HybridSearchOptions<Doc> { Skip = 2, IncludeVectors = true }).CollectAsync();
        Assert.Equal(all.Skip(2).Take(2).Select(r => r.Record.Id), skipped.Select(r => r.Record.Id));
        Assert.False(skipped[0].Record.Vector.IsEmpty);
        // Cosine collections may keep vectors normalised, so compare directions.
        var expectedVector = HybridDocs().Single(d => d.Id == skipped[0].Record.Id).Vector.ToArray();
        var storedVector = skipped[0].Record.Vector.ToArray();
        Assert.Equal(1.0, Dot(expectedVector, storedVector) / (Norm(expectedVector) * Norm(storedVector)), 4);

        double threshold = (all[2].Score!.Value + all[3].Score!.Value) / 2;
        var above = await hybrid.HybridSearchAsync(HybridQuery, HybridKeywords, 10, new HybridSearchOptions<Doc> { ScoreThreshold = threshold }).CollectAsync();
        Assert.Equal(all.Take(3).Select(r => r.Record.Id), above.Select(r => r.Record.Id));

        // Explicitly naming the text property and the vector property is the same search.
        var named = await hybrid.HybridSearchAsync(HybridQuery, HybridKeywords, 3, new HybridSearchOptions<Doc>
        {
            AdditionalProperty = d => d.Body,
            VectorProperty = d => d.Vector,
        }).CollectAsync();
        Assert.Equal(all.Take(3).Select(r => r.Record.Id), named.Select(r => r.Record.Id));
    }

    [Fact]
    public async Task Hybrid_search_refuses_properties_the_text_index_does_not_cover()
    {
        var collection = await DocsAsync();
        var hybrid = Hybrid(collection);

        var notFullText = await Assert.ThrowsAsync<InvalidOperationException>(() => hybrid.HybridSearchAsync(HybridQuery, HybridKeywords, 3,
            new HybridSearchOptions<Doc> { AdditionalProperty = d => d.Topic }).CollectAsync());
        Assert.Contains("'Topic'", notFullText.Message);
        Assert.Contains("IsFullTextIndexed", notFullText.Message);

        var key = await Assert.ThrowsAsync<InvalidOperationException>(() => hybrid.HybridSearchAsync(HybridQuery, HybridKeywords, 3,
            new HybridSearchOptions<Doc> { AdditionalProperty = d => d.Id }).CollectAsync());
        Assert.Contains("'Id'", key.Message);

        var notDocumentText = await Assert.ThrowsAsync<NotSupportedException>(() => hybrid.HybridSearchAsync(HybridQuery, HybridKeywords, 3,
            new HybridSearchOptions<Doc> { AdditionalProperty = d => d.Title }).CollectAsync());
        Assert.Contains("'Title'", notDocumentText.Message);
        Assert.Contains("'Body'", notDocumentText.Message);

        await Assert.ThrowsAsync<ArgumentException>(() => hybrid.HybridSearchAsync(HybridQuery, ["", " "], 3).CollectAsync());
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => hybrid.HybridSearchAsync(HybridQuery, HybridKeywords, 0).CollectAsync());
    }

    [Fact]
    public async Task Hybrid_search_on_a_record_without_a_full_text_property_is_refused()
    {
        var collection = Store.GetCollection<Guid, Point>(NewName(), PointDefinition(DistanceFunction.CosineSimilarity, IndexKind.Flat));
        await collection.EnsureCollectionExistsAsync();
        Assert.Null((await Client.GetCollectionAsync(collection.Name)).TextIndex);
        await collection.UpsertAsync(new Point { Id = Guid.NewGuid(), Label = "a", Vector = [1, 0, 0] });
        var hybrid = (IKeywordHybridSearchable<Point>)collection;

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => hybrid.HybridSearchAsync(new float[] { 1, 0, 0 }, ["a"], 3).CollectAsync());
        Assert.Contains(nameof(Point), error.Message);
        Assert.Contains("IsFullTextIndexed", error.Message);
    }

    [Fact]
    public async Task Hybrid_search_on_a_collection_created_without_a_text_index_surfaces_the_store_error()
    {
        string name = NewName();
        await Client.CreateCollectionAsync(name, new CollectionOptions { Encoder = "none", Dimension = 3, Metric = DistanceMetric.Cosine });
        var collection = Store.GetCollection<string, Doc>(name);
        await collection.UpsertAsync(HybridDocs());

        var error = await Assert.ThrowsAsync<VectorStoreException>(() => Hybrid(collection).HybridSearchAsync(HybridQuery, HybridKeywords, 3).CollectAsync());

        Assert.Equal("HybridSearch", error.OperationName);
        Assert.Equal(name, error.CollectionName);
        Assert.Contains("text index", error.Message);
        Assert.Equal(VectorStoreErrorCode.InvalidArgument, Assert.IsType<VectorStoreClientException>(error.InnerException).Code);
    }

    [Fact]
    public async Task Hybrid_search_with_a_text_query_uses_the_server_side_encoder_for_the_dense_side()
    {
        var collection = new VectorStoreDbCollection<string, Article>(Client, NewName(), new VectorStoreDbCollectionOptions { Encoder = "demo" });
        await collection.EnsureCollectionExistsAsync();
        Assert.NotNull((await Client.GetCollectionAsync(collection.Name)).TextIndex);
        await collection.UpsertAsync(
        [
            new Article { Key = "a1", Body = "The cat sat quietly on the warm mat", Topic = "pets" },
            new Article { Key = "a2", Body = "Central banks raised interest rates again", Topic = "finance" },
            new Article { Key = "a3", Body = "Puppies and kittens need regular vet visits", Topic = "pets" },
        ]);

        // The dense side embeds the search text (not the keywords): a2, whose text it is, stays in the top two.
        const string search = "Central banks raised interest rates again";
        var pets = new VectorSearchOptions<Article> { Filter = a => a.Topic == "pets" };
        var densePets = await collection.SearchAsync(search, 2, pets).CollectAsync();
        Assert.Equal(2, densePets.Count);
        // The pet article the vector ranks second is lifted to first by a word only it contains.
        string lifted = densePets[1].Record.Key;
        string keyword = lifted == "a1" ? "mat" : "kittens";

        var results = await collection.HybridSearchAsync(search, [keyword], 2).CollectAsync();
        Assert.Equal(new[] { "a2", lifted }.Order(), results.Select(r => r.Record.Key).Order());

        var hybridPets = await collection.HybridSearchAsync(search, [keyword], 3,
            new HybridSearchOptions<Article> { Filter = a => a.Topic == "pets" }).CollectAsync();
        Assert.Equal([lifted, densePets[0].Record.Key], hybridPets.Select(r => r.Record.Key));
    }

    [Fact]
    public async Task Hybrid_search_works_on_dynamic_collections_and_with_an_embedding_generator()
    {
        var definition = new VectorStoreCollectionDefinition
        {
            Properties =
            [
                new VectorStoreKeyProperty("Key", typeof(string)),
                new VectorStoreDataProperty("Text", typeof(string)) { IsFullTextIndexed = true },
                new VectorStoreVectorProperty("Embedding", typeof(string), 32),
            ],
        };
        var store = new VectorStoreDbVectorStore(Client, new VectorStoreDbVectorStoreOptions { EmbeddingGenerator = new HashingEmbeddingGenerator(32) });
        var collection = store.GetDynamicCollection(NewName(), definition);
        await collection.EnsureCollectionExistsAsync();
        string[] texts = ["the cat sat on the mat", "stock markets fell sharply today", "markets rallied today", "rain is expected tomorrow"];
        await collection.UpsertAsync(texts.Select((t, i) => new Dictionary<string, object?> { ["Key"] = $"k{i}", ["Text"] = t, ["Embedding"] = t }).ToList());
        var hybrid = Assert.IsAssignableFrom<IKeywordHybridSearchable<Dictionary<string, object?>>>(
            collection.GetService(typeof(IKeywordHybridSearchable<Dictionary<string, object?>>)));

        // The query text is embedded by the generator, whose top two are k1 and k2 (shared words); "rain" brings up
        // k3, which shares no word with the query, past k2.
        var dense = await collection.SearchAsync("stock markets fell sharply today", 2).CollectAsync();
        Assert.DoesNotContain("k3", dense.Select(r => (string)r.Record["Key"]!));
        var results = await hybrid.HybridSearchAsync("stock markets fell sharply today", ["rain"], 2,
            new HybridSearchOptions<Dictionary<string, object?>> { AdditionalProperty = r => r["Text"] }).CollectAsync();

        Assert.Equal(["k1", "k3"], results.Select(r => (string)r.Record["Key"]!).Order());
        Assert.Equal("rain is expected tomorrow", results.Single(r => (string)r.Record["Key"]! == "k3").Record["Text"]);
    }

    // ---------------------------------------------------------------- errors

    [Fact]
    public async Task Store_errors_surface_as_VectorStoreException_with_context()
    {
        var collection = Store.GetCollection<string, Product>(NewName());

        var error = await Assert.ThrowsAsync<VectorStoreException>(() => collection.UpsertAsync(NewProduct("p1", "shoes", 2021, [1, 0, 0])));
        Assert.Equal("vectorstore", error.VectorStoreSystemName);
        Assert.Equal(collection.Name, error.CollectionName);
        Assert.Equal("Upsert", error.OperationName);
        Assert.Equal(VectorStoreErrorCode.NotFound, Assert.IsType<VectorStoreClientException>(error.InnerException).Code);

        await collection.EnsureCollectionExistsAsync();
        var wrongDimension = await Assert.ThrowsAsync<VectorStoreException>(() => collection.SearchAsync(new float[] { 1, 0 }, 1).CollectAsync());
        Assert.Equal(VectorStoreErrorCode.InvalidArgument, Assert.IsType<VectorStoreClientException>(wrongDimension.InnerException).Code);
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            _client?.Dispose();
        }
    }
}
