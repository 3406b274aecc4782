using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.VectorData;
using VectorStoreDb.Client;
using VectorStoreDb.Client.Embedded;
using VectorStoreDb.Client.VectorData;

namespace VectorStoreDb.IntegrationTests.VectorData;

/// <summary>
/// The README sample (notes/vectordata.md), run as written: the same code over the embedded store and over
/// a server, and the DI registration.
/// </summary>
public sealed class VectorDataSampleTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    public sealed class Movie
    {
        [VectorStoreKey]
        public Guid Id { get; set; }

        [VectorStoreData(IsIndexed = true)]
        public string Title { get; set; } = "";

        // The first full-text string property is the document text: the store embeds it (encoder "demo").
        [VectorStoreData(IsFullTextIndexed = true)]
        public string Plot { get; set; } = "";

        [VectorStoreData(IsIndexed = true)]
        public int Year { get; set; }

        [VectorStoreData]
        public string[] Genres { get; set; } = [];
    }

    private static async Task<List<string>> RunSampleAsync(IVectorStoreClient client, string collectionName)
    {
        var store = new VectorStoreDbVectorStore(client, new VectorStoreDbVectorStoreOptions { Encoder = "demo" });
        var movies = store.GetCollection<Guid, Movie>(collectionName);
        await movies.EnsureCollectionExistsAsync();

        await movies.UpsertAsync(
        [
            new Movie { Title = "Star Voyage", Plot = "A crew travels through space to a distant planet", Year = 1999, Genres = ["sci-fi"] },
            new Movie { Title = "Deep Blue", Plot = "Divers explore a sunken ship in the deep ocean", Year = 2004, Genres = ["adventure"] },
            new Movie { Title = "Moon Base", Plot = "Astronauts build a base on the moon and travel through space", Year = 1985, Genres = ["sci-fi", "drama"] },
        ]);

        var titles = new List<string>();
        await foreach (var hit in movies.SearchAsync("travel through space", top: 2,
            new VectorSearchOptions<Movie> { Filter = m => m.Genres.Contains("sci-fi") && m.Year >= 1990 }))
        {
            titles.Add(hit.Record.Title);
        }
        return titles;
    }

    /// <summary>The README's hybrid search sample over the collection <see cref="RunSampleAsync"/> filled.</summary>
    private static async Task<(List<string> Dense, List<string> Hybrid)> RunHybridSampleAsync(IVectorStoreClient client, string collectionName)
    {
        var store = new VectorStoreDbVectorStore(client, new VectorStoreDbVectorStoreOptions { Encoder = "demo" });
        var movies = store.GetCollection<Guid, Movie>(collectionName);

        var dense = new List<string>();
        await foreach (var hit in movies.SearchAsync(HybridSampleQuery, top: 3))
        {
            dense.Add(hit.Record.Title);
        }

        var hybrid = (IKeywordHybridSearchable<Movie>)movies;
        var titles = new List<string>();
        await foreach (var hit in hybrid.HybridSearchAsync(HybridSampleQuery, HybridSampleKeywords, top: 3))
        {
            titles.Add(hit.Record.Title);
        }
        return (dense, titles);
    }

    private const string HybridSampleQuery = "a crew travels through space";

    private static readonly string[] HybridSampleKeywords = ["moon", "astronauts"];

    [Fact]
    public async Task The_hybrid_sample_runs_in_process_and_against_a_server()
    {
        using var folder = new TempFolder();
        using var embedded = EmbeddedVectorStore.Open(folder.Path);
        using var remote = new VectorStoreGrpcClient(server.GrpcAddress);
        foreach (var (client, name) in new (IVectorStoreClient, string)[] { (embedded, "movies"), (remote, $"movies-{Guid.NewGuid():N}") })
        {
            await RunSampleAsync(client, name);
            var (dense, hybrid) = await RunHybridSampleAsync(client, name);
            // The vector alone prefers Star Voyage; the keywords lift Moon Base, which also matches in meaning.
            Assert.Equal("Star Voyage", dense[0]);
            Assert.Equal(["Moon Base", "Star Voyage", "Deep Blue"], hybrid);
        }
    }

    [Fact]
    public async Task The_sample_runs_in_process()
    {
        using var folder = new TempFolder();
        using var client = EmbeddedVectorStore.Open(folder.Path);

        Assert.Equal(["Star Voyage"], await RunSampleAsync(client, "movies"));
    }

    [Fact]
    public async Task The_same_sample_runs_against_a_server()
    {
        using var client = new VectorStoreGrpcClient(server.GrpcAddress);

        Assert.Equal(["Star Voyage"], await RunSampleAsync(client, $"movies-{Guid.NewGuid():N}"));
    }

    [Fact]
    public async Task AddVectorStoreDbVectorStore_registers_the_store_over_the_registered_client()
    {
        var generator = new HashingEmbeddingGenerator(8);
        await using var provider = new ServiceCollection()
            .AddVectorStoreClient(server.GrpcAddress)
            .AddSingleton<IEmbeddingGenerator<string, Embedding<float>>>(generator)
            .AddVectorStoreDbVectorStore()
            .BuildServiceProvider();

        var store = provider.GetRequiredService<Microsoft.Extensions.VectorData.VectorStore>();

        Assert.Same(provider.GetRequiredService<VectorStoreDbVectorStore>(), store);
        Assert.Same(provider.GetRequiredService<IVectorStoreClient>(), store.GetService(typeof(IVectorStoreClient)));
        var collection = store.GetCollection<Guid, VectorDataConformanceTests.Note>($"di-{Guid.NewGuid():N}", new VectorStoreCollectionDefinition
        {
            Properties =
            [
                new VectorStoreKeyProperty(nameof(VectorDataConformanceTests.Note.Id), typeof(Guid)),
                new VectorStoreDataProperty(nameof(VectorDataConformanceTests.Note.Text), typeof(string)) { IsFullTextIndexed = true },
                new VectorStoreDataProperty(nameof(VectorDataConformanceTests.Note.Kind), typeof(string)),
                new VectorStoreVectorProperty(nameof(VectorDataConformanceTests.Note.Embedding), typeof(string), 8),
            ],
        });
        await collection.EnsureCollectionExistsAsync();
        await collection.UpsertAsync(new VectorDataConformanceTests.Note { Text = "hello world", Kind = "k", Embedding = "hello world" });

        var hit = Assert.Single(await collection.SearchAsync("hello world", 5).CollectAsync());
        Assert.Equal("hello world", hit.Record.Text);
        Assert.True(generator.Calls >= 2);
    }
}
