using System.Text;
using VectorStoreDb.Rag;

namespace VectorStoreDb.Tests;

/// <summary>One stories260K model for the whole class: loading it is the slow part.</summary>
public sealed class Stories260kFixture : IDisposable
{
    public const string ModelName = "stories260k";

    private readonly Lazy<DecoderModel> _model = new(() => DecoderModel.Load(TestModels.Folder(ModelName)));

    public string Folder => TestModels.Folder(ModelName);

    /// <summary>
    /// The model. Tests that call this are <c>[ModelFact(ModelName)]</c>: they run only when the model is there, or under
    /// <c>CI=true</c>, where a missing model must fail the test rather than pass it.
    /// </summary>
    public DecoderModel Require() => TestModels.Path(ModelName, "model.onnx") is null
        ? throw new InvalidOperationException($"shared/models/{ModelName}/model.onnx is missing, and CI=true requires it.")
        : _model.Value;

    public void Dispose()
    {
        if (_model.IsValueCreated)
        {
            _model.Value.Dispose();
        }
    }
}

public sealed class DecoderTests(Stories260kFixture fixture) : IClassFixture<Stories260kFixture>
{
    private const string Reference = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park.";

    private static async Task<string> Generate(DecoderModel model, string prompt, SamplingOptions options, GenerationStats? stats = null, CancellationToken ct = default)
    {
        var sb = new StringBuilder();
        await foreach (string delta in model.GenerateAsync(model.EncodePrompt(prompt), options, stats, ct))
        {
            sb.Append(delta);
        }
        return sb.ToString();
    }

    [ModelFact(Stories260kFixture.ModelName)]
    public async Task Greedy_from_once_upon_a_time_reproduces_the_reference_story()
    {
        var model = fixture.Require();
        var stats = new GenerationStats();
        string text = "Once upon a time" + await Generate(model, "Once upon a time", new SamplingOptions { MaxTokens = 60 }, stats);
        Assert.StartsWith(Reference, text, StringComparison.Ordinal);
        Assert.Equal(5, stats.PromptTokens);
        Assert.Equal(60, stats.CompletionTokens);
        Assert.Equal("length", stats.FinishReason);
    }

    [ModelFact(Stories260kFixture.ModelName)]
    public void Tokenizer_encodes_like_llama2c_and_round_trips()
    {
        var model = fixture.Require();
        Assert.Equal([1, 403, 407, 261, 378], model.EncodePrompt("Once upon a time"));
        foreach (string text in new[] { "Once upon a time", "Tom had a red ball.\nThe end.", "Zoë's café — 日本 🙂" })
        {
            var ids = model.Tokenizer.Encode(text);
            Assert.Equal(text, model.Tokenizer.Decode(ids));
        }
    }

    [ModelFact(Stories260kFixture.ModelName)]
    public void Streaming_detokenizer_joins_bytes_split_across_tokens()
    {
        var model = fixture.Require();
        // "é" and "🙂" are not in the 512-token vocabulary, so they arrive as byte-fallback tokens (<0xC3> <0xA9> …).
        var ids = model.Tokenizer.Encode("café 🙂\nok");
        var detokenizer = new StreamingDetokenizer(model.Tokenizer, atStart: true);
        var deltas = ids.Select(detokenizer.Append).ToList();
        Assert.Equal("café 🙂\nok", string.Concat(deltas) + detokenizer.Flush());
        Assert.Contains(deltas, d => d.Length == 0);
        Assert.DoesNotContain(deltas, d => d.Contains('\uFFFD'));
    }

    [ModelFact(Stories260kFixture.ModelName)]
    public void Kv_cache_decoding_matches_full_recomputation()
    {
        var model = fixture.Require();
        var ids = model.EncodePrompt("Once upon a time, there was a little girl named Lily. She loved to play");
        int vocab = model.Decoder.VocabSize;
        using var full = model.Decoder.CreateState();
        full.Prefill([.. ids]);
        float[] reference = full.AllLogits.ToArray();

        using var cached = model.Decoder.CreateState();
        int split = 4;
        var first = cached.Prefill(ids.Take(split).ToArray()).ToArray();
        AssertClose(reference.AsSpan((split - 1) * vocab, vocab), first);
        for (int i = split; i < ids.Count; i++)
        {
            var step = cached.Step(ids[i]);
            AssertClose(reference.AsSpan(i * vocab, vocab), step);
        }
        Assert.Equal(ids.Count, cached.Length);
    }

    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        float worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            worst = Math.Max(worst, Math.Abs(expected[i] - actual[i]));
        }
        Assert.True(worst <= 1e-4f, $"max |Δlogit| = {worst}");
    }

    [ModelFact(Stories260kFixture.ModelName)]
    public async Task Top_k_one_and_near_zero_temperature_equal_greedy()
    {
        var model = fixture.Require();
        string greedy = await Generate(model, "Tom had a red ball", new SamplingOptions { MaxTokens = 40 });
        string topK = await Generate(model, "Tom had a red ball", new SamplingOptions { MaxTokens = 40, Temperature = 1.5f, TopK = 1, Seed = 3 });
        string cold = await Generate(model, "Tom had a red ball", new SamplingOptions { MaxTokens = 40, Temperature = 1e-4f, Seed = 4 });
        Assert.Equal(greedy, topK);
        Assert.Equal(greedy, cold);
    }

    [ModelFact(Stories260kFixture.ModelName)]
    public async Task Same_seed_gives_same_text_and_different_seeds_differ()
    {
        var model = fixture.Require();
        var options = new SamplingOptions { MaxTokens = 40, Temperature = 1.0f, TopP = 0.95f, TopK = 50, RepetitionPenalty = 1.1f, Seed = 42 };
        string a = await Generate(model, "Once upon a time", options);
        string b = await Generate(model, "Once upon a time", options);
        Assert.Equal(a, b);
        var others = new HashSet<string>();
        for (int seed = 1; seed <= 4; seed++)
        {
            others.Add(await Generate(model, "Once upon a time", options with { Seed = seed }));
        }
        Assert.True(others.Count >= 3, $"only {others.Count} distinct texts from 4 seeds");
        Assert.Contains(others, o => o != a);
    }

    [ModelFact(Stories260kFixture.ModelName)]
    public async Task Stop_string_ends_generation_and_is_not_returned()
    {
        var model = fixture.Require();
        var stats = new GenerationStats();
        string text = await Generate(model, "Once upon a time", new SamplingOptions { MaxTokens = 60, Stop = ["Lily."] }, stats);
        Assert.Equal(", there was a little girl named ", text);
        Assert.Equal("stop", stats.FinishReason);
        // A stop string that never occurs changes nothing.
        string unchanged = await Generate(model, "Once upon a time", new SamplingOptions { MaxTokens = 30, Stop = ["zebra"] });
        Assert.Equal(await Generate(model, "Once upon a time", new SamplingOptions { MaxTokens = 30 }), unchanged);
    }

    [ModelFact(Stories260kFixture.ModelName)]
    public async Task Stop_token_id_and_max_tokens_end_generation()
    {
        var model = fixture.Require();
        var stats = new GenerationStats();
        // "," is the greedy story's first token, so generation stops at once.
        var withComma = model.Tokenizer.Encode("time,");
        Assert.Equal(", there", model.Tokenizer.Decode(model.Tokenizer.Encode("time, there").Skip(withComma.Count - 1)));
        int comma = withComma[^1];
        string text = await Generate(model, "Once upon a time", new SamplingOptions { MaxTokens = 60, StopTokenIds = [comma] }, stats);
        Assert.Equal("", text);
        Assert.Equal(0, stats.CompletionTokens);
        Assert.Equal("stop", stats.FinishReason);
    }

    [ModelFact(Stories260kFixture.ModelName)]
    public async Task Cancellation_stops_generation()
    {
        var model = fixture.Require();
        using var cts = new CancellationTokenSource();
        int deltas = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (string _ in model.GenerateAsync(model.EncodePrompt("Once upon a time"), new SamplingOptions { MaxTokens = 400 }, null, cts.Token))
            {
                if (++deltas == 3)
                {
                    await cts.CancelAsync();
                }
            }
        });
        Assert.Equal(3, deltas);
    }

    [ModelFact(Stories260kFixture.ModelName)]
    public async Task Bad_sampling_options_are_refused_naming_the_field()
    {
        var model = fixture.Require();
        var ex = await Assert.ThrowsAsync<VectorStoreDb.Engine.VectorStoreException>(() => Generate(model, "Hi", new SamplingOptions { TopP = 0 }));
        Assert.Equal("top_p", ex.Field);
        ex = await Assert.ThrowsAsync<VectorStoreDb.Engine.VectorStoreException>(() => Generate(model, "Hi", new SamplingOptions { Temperature = -1 }));
        Assert.Equal("temperature", ex.Field);
    }
}
