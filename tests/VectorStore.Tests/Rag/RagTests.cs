using System.Text.Json;
using VectorStoreDb.Engine;
using VectorStoreDb.Engine.Filtering;
using VectorStoreDb.Rag;

namespace VectorStoreDb.Tests.Rag;

public sealed class RagTests(Stories260kFixture fixture) : IClassFixture<Stories260kFixture>
{
    private static readonly (string Id, string Text, string Topic)[] Corpus =
    [
        ("cats", "Cats sleep for about sixteen hours a day. They hunt at dawn and dusk. A cat's whiskers sense air currents.", "pets"),
        ("dogs", "Dogs were domesticated from wolves. A dog's nose has millions of scent receptors. Dogs bark to warn their owners.", "pets"),
        ("paris", "Paris is the capital of France. The Eiffel Tower was finished in 1889. The Seine flows through the city.", "travel"),
        ("tea", "Green tea is made from unoxidised leaves. Black tea is fully oxidised. Tea was first drunk in China.", "food"),
    ];

    private static async Task<VectorStoreEngine> OpenStore(TestData.TempFolder folder)
    {
        var engine = VectorStoreEngine.Open(folder.Path);
        await engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "kb" });
        await engine.UpsertAsync("kb", [.. Corpus.Select(c => new DocumentInput
        {
            Id = c.Id,
            Text = c.Text,
            Metadata = new Dictionary<string, MetadataValue> { ["topic"] = MetadataValue.Of(c.Topic) },
        })]);
        return engine;
    }

    [Fact]
    public async Task Extractive_generator_returns_cited_sentences_from_the_retrieved_passages()
    {
        using var folder = new TestData.TempFolder();
        using var engine = await OpenStore(folder);
        using var generators = GeneratorRegistry.CreateDefault();
        var rag = new RagService(engine, generators);
        var response = await rag.ChatAsync("kb", new RagRequest { Question = "How many hours a day do cats sleep?", K = 2 });
        Assert.Equal("extractive", response.Generator);
        Assert.Equal("cats", response.Citations[0].DocumentId);
        Assert.Equal(1, response.Citations[0].Index);
        Assert.Equal(0, response.Citations[0].Chunk);
        Assert.Contains("Cats sleep for about sixteen hours a day. [1]", response.Answer, StringComparison.Ordinal);
        // Every sentence in the answer comes from a cited passage and carries its citation.
        foreach (string part in response.Answer.Split(']', StringSplitOptions.RemoveEmptyEntries))
        {
            int open = part.LastIndexOf('[');
            int index = int.Parse(part[(open + 1)..]);
            Assert.Contains(part[..open].Trim(), response.Citations[index - 1].Text, StringComparison.Ordinal);
        }
        Assert.True(response.Usage.CompletionTokens > 0);
        Assert.True(response.Timings.RetrievalMs >= 0);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(8)]
    [InlineData(13)]
    public async Task Extractive_generator_stops_at_max_tokens_with_finish_reason_length(int maxTokens)
    {
        using var folder = new TestData.TempFolder();
        using var engine = await OpenStore(folder);
        using var generators = GeneratorRegistry.CreateDefault();
        var rag = new RagService(engine, generators);
        var full = await rag.ChatAsync("kb", new RagRequest { Question = "How many hours a day do cats sleep?", K = 2 });
        Assert.Equal("stop", full.FinishReason);
        Assert.True(full.Usage.CompletionTokens > 13, "the full answer must be longer than the limits tried");

        var cut = await rag.ChatAsync("kb", new RagRequest { Question = "How many hours a day do cats sleep?", K = 2, MaxTokens = maxTokens });
        Assert.Equal("length", cut.FinishReason);
        Assert.Equal(maxTokens, cut.Usage.CompletionTokens);
        Assert.Equal(maxTokens, System.Text.RegularExpressions.Regex.Count(cut.Answer, @"\w+"));
        Assert.StartsWith(cut.Answer, full.Answer, StringComparison.Ordinal);

        var exact = await rag.ChatAsync("kb", new RagRequest { Question = "How many hours a day do cats sleep?", K = 2, MaxTokens = full.Usage.CompletionTokens });
        Assert.Equal("stop", exact.FinishReason);
        Assert.Equal(full.Answer, exact.Answer);
    }

    [Fact]
    public async Task Developer_messages_are_instructions_like_system()
    {
        using var folder = new TestData.TempFolder();
        using var engine = await OpenStore(folder);
        using var generators = GeneratorRegistry.CreateDefault();
        var rag = new RagService(engine, generators);
        var response = await rag.ChatAsync("kb", new RagRequest { Messages = [new("developer", "Be brief."), new("user", "Where was tea first drunk?")], Debug = true });
        Assert.Contains("China", response.Answer, StringComparison.Ordinal);
        var refused = await Assert.ThrowsAsync<VectorStoreException>(() => rag.ChatAsync("kb", new RagRequest { Messages = [new("tool", "x"), new("user", "q")] }));
        Assert.Equal("messages[0].role", refused.Field);
    }

    [Fact]
    public async Task Filter_restricts_the_passages_and_messages_supply_the_question()
    {
        using var folder = new TestData.TempFolder();
        using var engine = await OpenStore(folder);
        using var generators = GeneratorRegistry.CreateDefault();
        var rag = new RagService(engine, generators);
        var filter = MetadataFilter.Parse(JsonDocument.Parse("""{"topic":"food"}""").RootElement);
        var response = await rag.ChatAsync("kb", new RagRequest
        {
            Messages = [new("system", "Be brief."), new("user", "Hello"), new("assistant", "Hi!"), new("user", "Where was tea first drunk?")],
            Filter = filter,
            K = 3,
        });
        Assert.All(response.Citations, c => Assert.Equal("tea", c.DocumentId));
        Assert.Contains("China", response.Answer, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_requests_are_refused_naming_the_field()
    {
        using var folder = new TestData.TempFolder();
        using var engine = await OpenStore(folder);
        using var generators = GeneratorRegistry.CreateDefault();
        var rag = new RagService(engine, generators);
        async Task<string?> Field(RagRequest request, string collection = "kb") =>
            (await Assert.ThrowsAsync<VectorStoreException>(() => rag.ChatAsync(collection, request))).Field;
        Assert.Equal("question", await Field(new RagRequest()));
        Assert.Equal("k", await Field(new RagRequest { Question = "q", K = 0 }));
        Assert.Equal("generator", await Field(new RagRequest { Question = "q", Generator = "gpt-9" }));
        Assert.Equal("messages[0].role", await Field(new RagRequest { Messages = [new("robot", "hi")] }));
        Assert.Equal("top_p", await Field(new RagRequest { Question = "q", TopP = 2 }));
        Assert.Equal("name", await Field(new RagRequest { Question = "q" }, "missing"));
    }

    [Fact]
    public async Task Full_queue_is_refused_as_busy()
    {
        using var limiter = new GenerationLimiter("test", maxConcurrent: 1, queueLimit: 1);
        using var running = await limiter.AcquireAsync(CancellationToken.None);
        var waiting = limiter.AcquireAsync(CancellationToken.None).AsTask();
        Assert.False(waiting.IsCompleted);
        var busy = await Assert.ThrowsAsync<VectorStoreException>(() => limiter.AcquireAsync(CancellationToken.None).AsTask());
        Assert.Equal(ErrorCode.Busy, busy.Code);
        running.Dispose();
        using var next = await waiting;
        Assert.Equal(1, limiter.InFlight);
    }

    [ModelFact(Stories260kFixture.ModelName)]
    public void Token_budget_drops_the_lowest_ranked_passages_first_then_truncates()
    {
        var model = fixture.Require();
        var prompts = model.Prompts;
        string[] passages = ["Lily had a red ball in the park.", "Tom liked his big blue boat.", "The cat slept under the warm sun all day long."];
        var all = prompts.Build("Answer.", [], "What did Lily have?", passages, 512);
        Assert.Equal(3, all.PassagesUsed);
        Assert.Contains("[3] The cat", all.Text, StringComparison.Ordinal);

        // Room for exactly the first two passages: the third (lowest-ranked) goes.
        int twoTokens = prompts.Render("Answer.", [], "What did Lily have?", passages[..2]).Ids.Count;
        var two = prompts.Build("Answer.", [], "What did Lily have?", passages, twoTokens);
        Assert.Equal(2, two.PassagesUsed);
        Assert.Contains("[2] Tom", two.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("cat", two.Text, StringComparison.Ordinal);
        Assert.True(two.Ids.Count <= twoTokens);

        // Less room than one whole passage: only the best is kept, shortened.
        int oneTokens = prompts.Render("Answer.", [], "What did Lily have?", passages[..1]).Ids.Count;
        var cut = prompts.Build("Answer.", [], "What did Lily have?", passages, oneTokens - 3);
        Assert.Equal(1, cut.PassagesUsed);
        Assert.True(cut.PassageTruncated);
        Assert.Contains("[1] Lily", cut.Text, StringComparison.Ordinal);
        Assert.DoesNotContain("[2]", cut.Text, StringComparison.Ordinal);
        Assert.True(cut.Ids.Count <= oneTokens - 3);
        Assert.Equal(1, cut.Ids[0]);
    }

    [ModelFact(Stories260kFixture.ModelName)]
    public void ChatMl_template_maps_markers_to_single_special_tokens()
    {
        var model = fixture.Require();
        var config = model.Config with { SpecialTokens = new Dictionary<string, int> { ["<|im_start|>"] = 500, ["<|im_end|>"] = 501 }, ChatTemplate = "{% for m in messages %}<|im_start|>{{m.role}}..." };
        var tokenizer = DecoderTokenizer.Load(fixture.Folder, config);
        var builder = new PromptBuilder(tokenizer, config);
        Assert.Equal(PromptTemplate.ChatMl, builder.Template);
        var (text, ids) = builder.Render("Sys.", [new("user", "Hi"), new("assistant", "Hello")], "Why?", ["A passage."]);
        Assert.StartsWith("<|im_start|>system\nSys.\n\nContext:\n[1] A passage.\n<|im_end|>\n<|im_start|>user\nHi<|im_end|>", text, StringComparison.Ordinal);
        Assert.EndsWith("<|im_start|>assistant\n", text, StringComparison.Ordinal);
        Assert.Equal(5, ids.Count(id => id == 500));
        Assert.Equal(4, ids.Count(id => id == 501));
    }

    [ModelFact(Stories260kFixture.ModelName)]
    public async Task Onnx_generator_streams_citations_then_tokens_then_usage()
    {
        fixture.Require();
        using var folder = new TestData.TempFolder();
        using var engine = await OpenStore(folder);
        var options = new RagOptions();
        options.Generators["stories"] = new GeneratorOptions { Path = fixture.Folder, MaxConcurrent = 1, QueueLimit = 0 };
        using var generators = new GeneratorRegistry(options);
        Assert.Equal("stories", generators.DefaultName);
        var rag = new RagService(engine, generators);
        var request = new RagRequest { Question = "Where do cats sleep?", K = 2, MaxTokens = 24, Debug = true };
        var events = new List<RagStreamEvent>();
        await foreach (var e in rag.ChatStreamAsync("kb", request))
        {
            events.Add(e);
        }
        var citations = Assert.IsType<RagCitationsEvent>(events[0]);
        Assert.Equal(2, citations.Citations.Count);
        Assert.Equal("stories", citations.Generator);
        var done = Assert.IsType<RagDoneEvent>(events[^1]);
        var tokens = events.Skip(1).SkipLast(1).Cast<RagTokenEvent>().ToList();
        Assert.NotEmpty(tokens);
        Assert.Equal(24, done.Usage.CompletionTokens);
        Assert.True(done.Usage.PromptTokens > 20);
        Assert.Contains("[1] " + citations.Citations[0].Text, done.Prompt, StringComparison.Ordinal);
        Assert.EndsWith("User: Where do cats sleep?\nAssistant:", done.Prompt, StringComparison.Ordinal);
        Assert.True(done.Timings.TimeToFirstTokenMs > 0);

        // Non-streamed gives the same (greedy) text.
        var whole = await rag.ChatAsync("kb", request);
        Assert.Equal(string.Concat(tokens.Select(t => t.Text)), whole.Answer);

        // With the only slot held and no queue, another chat is refused as busy before any event.
        using (await generators.Get("stories").Limiter.AcquireAsync(CancellationToken.None))
        {
            var busy = await Assert.ThrowsAsync<VectorStoreException>(() => rag.ChatAsync("kb", request));
            Assert.Equal(ErrorCode.Busy, busy.Code);
        }

        // The extractive generator stays available by name.
        var extractive = await rag.ChatAsync("kb", request with { Generator = "extractive" });
        Assert.Equal("extractive", extractive.Generator);
    }

    [Fact]
    public void Misconfigured_generator_folder_is_a_clear_start_up_error()
    {
        using var folder = new TestData.TempFolder();
        var options = new RagOptions();
        options.Generators["broken"] = new GeneratorOptions { Path = folder.Path };
        var ex = Assert.Throws<VectorStoreException>(() => new GeneratorRegistry(options));
        Assert.Contains("VectorStore:Generators:broken:Path", ex.Message, StringComparison.Ordinal);
        Assert.Contains("model.onnx", ex.Message, StringComparison.Ordinal);

        File.WriteAllBytes(Path.Combine(folder.Path, "model.onnx"), [0]);
        ex = Assert.Throws<VectorStoreException>(() => new GeneratorRegistry(options));
        Assert.Contains("config.json", ex.Message, StringComparison.Ordinal);

        File.WriteAllText(Path.Combine(folder.Path, "config.json"), "{}");
        ex = Assert.Throws<VectorStoreException>(() => new GeneratorRegistry(options));
        Assert.Contains("tokenizer.model", ex.Message, StringComparison.Ordinal);
    }
}

public sealed class RagChatClientTests
{
    [Fact]
    public async Task Embedded_IChatClient_answers_from_the_collection_with_citations()
    {
        using var folder = new TestData.TempFolder();
        using var engine = VectorStoreEngine.Open(folder.Path);
        await engine.CreateCollectionAsync(new CreateCollectionRequest { Name = "kb" });
        await engine.UpsertAsync("kb", [
            new DocumentInput { Id = "cats", Text = "Cats sleep for about sixteen hours a day. They hunt at dawn." },
            new DocumentInput { Id = "tea", Text = "Tea was first drunk in China. Green tea is unoxidised." },
        ]);
        using var generators = GeneratorRegistry.CreateDefault();
        using Microsoft.Extensions.AI.IChatClient chat = new RagChatClient(new RagService(engine, generators), "kb");
        Microsoft.Extensions.AI.ChatMessage[] messages = [new(Microsoft.Extensions.AI.ChatRole.User, "Where was tea first drunk?")];
        var response = await chat.GetResponseAsync(messages, new Microsoft.Extensions.AI.ChatOptions { AdditionalProperties = new() { ["k"] = 1 } });
        Assert.Contains("Tea was first drunk in China. [1]", response.Text, StringComparison.Ordinal);
        var annotation = Assert.IsType<Microsoft.Extensions.AI.CitationAnnotation>(Assert.Single(response.Messages[0].Contents[0].Annotations!));
        Assert.Equal("tea", annotation.FileId);
        Assert.Equal("extractive", response.ModelId);

        var streamed = new System.Text.StringBuilder();
        await foreach (var update in chat.GetStreamingResponseAsync(messages, new Microsoft.Extensions.AI.ChatOptions { AdditionalProperties = new() { ["k"] = 1 } }))
        {
            streamed.Append(update.Text);
        }
        Assert.Equal(response.Text, streamed.ToString());
    }
}
