using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using VectorStoreDb.Engine;
using VectorStoreDb.Engine.Diagnostics;
using VectorStoreDb.Engine.Filtering;

namespace VectorStoreDb.Rag;

/// <summary>A chat request against one collection. Unset members take the <see cref="RagDefaults"/>.</summary>
public sealed record RagRequest
{
    /// <summary>The question; when absent, the last <c>user</c> message is the question.</summary>
    public string? Question { get; init; }

    /// <summary>The conversation, oldest first; roles <c>system</c> (or <c>developer</c>), <c>user</c>, <c>assistant</c>.</summary>
    public IReadOnlyList<RagMessage>? Messages { get; init; }

    /// <summary>Passages to retrieve.</summary>
    public int? K { get; init; }

    public MetadataFilter? Filter { get; init; }

    public int? MaxTokens { get; init; }

    public float? Temperature { get; init; }

    public int? TopK { get; init; }

    public float? TopP { get; init; }

    public float? RepetitionPenalty { get; init; }

    public int? Seed { get; init; }

    public IReadOnlyList<string>? Stop { get; init; }

    /// <summary>Keep generating through EOS until max_tokens (as vLLM's <c>ignore_eos</c>; for load tests and benchmarks).</summary>
    public bool IgnoreEos { get; init; }

    /// <summary>Generator name; null takes the default.</summary>
    public string? Generator { get; init; }

    /// <summary>Return the full prompt in the response.</summary>
    public bool Debug { get; init; }
}

/// <summary>A passage the answer may cite as [<see cref="Index"/>].</summary>
public sealed record Citation(int Index, string DocumentId, int Chunk, float Score, string Text);

public sealed record RagUsage(int PromptTokens, int CompletionTokens)
{
    public int TotalTokens => PromptTokens + CompletionTokens;
}

/// <summary>Where the time went, in milliseconds (tokens/s counts decode steps after the first token).</summary>
public sealed record RagTimings(double RetrievalMs, double QueueMs, double TimeToFirstTokenMs, double GenerationMs, double TotalMs, double TokensPerSecond);

/// <summary>A complete (non-streamed) answer.</summary>
public sealed record RagResponse(string Answer, IReadOnlyList<Citation> Citations, RagUsage Usage, RagTimings Timings, string Generator, string FinishReason, string? Prompt);

/// <summary>What a streamed answer yields: <see cref="RagCitationsEvent"/>, then <see cref="RagTokenEvent"/>s, then <see cref="RagDoneEvent"/>.</summary>
public abstract record RagStreamEvent;

public sealed record RagCitationsEvent(IReadOnlyList<Citation> Citations, string Generator) : RagStreamEvent;

public sealed record RagTokenEvent(string Text) : RagStreamEvent;

public sealed record RagDoneEvent(RagUsage Usage, RagTimings Timings, string FinishReason, string Generator, string? Prompt) : RagStreamEvent;

/// <summary>
/// Retrieval-augmented chat over a <see cref="VectorStoreEngine"/>: retrieve the top-k passages of a
/// collection (with an optional filter), build the prompt, generate. Generations per generator are bounded
/// (<see cref="GenerationLimiter"/>); a full queue is refused with <see cref="ErrorCode.Busy"/>. Thread-safe.
/// Retrieval goes through <paramref name="retriever"/> when given (a cluster node passes the cluster's), else the
/// engine; the engine still embeds for generators that need it and sets the question's length limit.
/// </summary>
public sealed class RagService(VectorStoreEngine engine, GeneratorRegistry generators, RagDefaults? defaults = null, ILogger<RagService>? logger = null, IRagRetriever? retriever = null)
{
    private readonly RagDefaults _defaults = defaults ?? new RagDefaults();
    private readonly IRagRetriever _retriever = retriever ?? new EngineRagRetriever(engine);
    private readonly ILogger _logger = logger ?? NullLogger<RagService>.Instance;

    public GeneratorRegistry Generators => generators;

    /// <summary>Answers in one piece.</summary>
    public async Task<RagResponse> ChatAsync(string collection, RagRequest request, CancellationToken cancellationToken = default)
    {
        var answer = new StringBuilder();
        IReadOnlyList<Citation> citations = [];
        RagDoneEvent? done = null;
        await foreach (var e in ChatStreamAsync(collection, request, cancellationToken).ConfigureAwait(false))
        {
            switch (e)
            {
                case RagCitationsEvent c:
                    citations = c.Citations;
                    break;
                case RagTokenEvent t:
                    answer.Append(t.Text);
                    break;
                case RagDoneEvent d:
                    done = d;
                    break;
            }
        }
        return new RagResponse(answer.ToString(), citations, done!.Usage, done.Timings, done.Generator, done.FinishReason, done.Prompt);
    }

    /// <summary>
    /// Streams the answer. Every refusal (bad request, unknown collection, <see cref="ErrorCode.Busy"/>) is
    /// thrown by the first <c>MoveNextAsync</c>, before any event, so a server can still answer with an error
    /// status. Cancelling (e.g. the client went away) stops generation at once.
    /// </summary>
    public async IAsyncEnumerable<RagStreamEvent> ChatStreamAsync(string collection, RagRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        long started = Stopwatch.GetTimestamp();
        var (question, history, system) = ResolveConversation(request);
        int k = request.K ?? _defaults.K;
        if (k < 1 || k > _defaults.MaxK)
        {
            throw new VectorStoreException(ErrorCode.InvalidArgument, $"k: must be between 1 and {_defaults.MaxK}, was {k}.", "k");
        }
        var sampling = new SamplingOptions
        {
            MaxTokens = request.MaxTokens ?? _defaults.MaxTokens,
            Temperature = request.Temperature ?? 0f,
            TopK = request.TopK ?? 0,
            TopP = request.TopP ?? 1f,
            RepetitionPenalty = request.RepetitionPenalty ?? 1f,
            Seed = request.Seed,
            Stop = request.Stop ?? [],
            IgnoreEos = request.IgnoreEos,
        };
        sampling.Validate();
        var generator = generators.Get(request.Generator);
        var settings = await _retriever.GetSettingsAsync(collection, cancellationToken).ConfigureAwait(false);
        string? encoder = settings.Encoder
            ?? throw new VectorStoreException(ErrorCode.FailedPrecondition, $"Collection '{collection}' stores raw vectors (no encoder), so a question cannot be searched; chat needs a collection with an encoder.", "collection");

        using var lease = await generator.Limiter.AcquireAsync(cancellationToken).ConfigureAwait(false);
        long admitted = Stopwatch.GetTimestamp();
        // Passages are chunks, not documents: a long document contributes its matching windows, never its whole text
        // (dense mode returns chunk hits; text and hybrid modes rank documents, whose best dense chunk is the highlight).
        bool chunkHits = settings.DefaultMode == QueryModes.Dense;
        var hits = await _retriever.QueryAsync(collection, new QueryRequest { Text = question, K = k, Filter = request.Filter, Chunks = chunkHits }, cancellationToken).ConfigureAwait(false);
        var passages = hits.Where(h => !string.IsNullOrWhiteSpace(h.Highlight?.Text ?? h.Text))
            .Select(h => new Passage(h.Id, h.Highlight?.Text ?? h.Text!, h.Score) { Chunk = h.Highlight?.Chunk ?? 0 }).ToList();
        long retrieved = Stopwatch.GetTimestamp();
        var input = new GeneratorInput
        {
            Question = question,
            History = history,
            Passages = passages,
            SystemPrompt = system,
            Sampling = sampling,
            Debug = request.Debug,
            Embed = (texts, ct) => engine.EmbedAsync(texts, encoder, ct),
        };
        string? prompt = null;
        int promptTokens = 0;
        long firstToken = 0;
        GenerationStats? stats = null;
        using var activity = VectorStoreTelemetry.Source.StartActivity(VectorStoreTelemetry.Spans.Generate);
        activity?.SetTag(VectorStoreTelemetry.Tags.Collection, collection);
        activity?.SetTag(VectorStoreTelemetry.Tags.Generator, generator.Name);
        await foreach (var e in generator.GenerateAsync(input, cancellationToken).ConfigureAwait(false))
        {
            switch (e)
            {
                case PromptReady ready:
                    prompt = ready.Prompt;
                    promptTokens = ready.PromptTokens;
                    yield return new RagCitationsEvent(
                        [.. passages.Take(ready.PassagesUsed).Select((p, i) => new Citation(i + 1, p.DocumentId, p.Chunk, p.Score, p.Text))], generator.Name);
                    break;
                case TokenDelta delta:
                    if (firstToken == 0)
                    {
                        firstToken = Stopwatch.GetTimestamp();
                    }
                    yield return new RagTokenEvent(delta.Text);
                    break;
                case GenerationFinished finished:
                    stats = finished.Stats;
                    break;
            }
        }
        stats ??= new GenerationStats();
        long end = Stopwatch.GetTimestamp();
        activity?.SetTag("vectorstore.completion_tokens", stats.CompletionTokens);
        // The decoder measures decode speed itself; generators that do not (extractive) get tokens over generation time.
        double tokensPerSecond = stats.TokensPerSecond > 0 ? stats.TokensPerSecond
            : stats.GenerationMs > 0 ? stats.CompletionTokens / (stats.GenerationMs / 1000) : 0;
        VectorStoreTelemetry.RecordGeneration(generator.Name, collection, stats.CompletionTokens, tokensPerSecond);
        var timings = new RagTimings(
            RetrievalMs: Ms(admitted, retrieved),
            QueueMs: Ms(started, admitted),
            TimeToFirstTokenMs: Ms(started, firstToken == 0 ? end : firstToken),
            GenerationMs: stats.GenerationMs,
            TotalMs: Ms(started, end),
            TokensPerSecond: stats.TokensPerSecond);
        _logger.LogDebug("Chat on {Collection} with {Generator}: {Passages} passages, {Prompt}+{Completion} tokens, first token {Ttft:F1} ms, {Tps:F0} tokens/s",
            collection, generator.Name, passages.Count, promptTokens, stats.CompletionTokens, timings.TimeToFirstTokenMs, timings.TokensPerSecond);
        yield return new RagDoneEvent(new RagUsage(promptTokens, stats.CompletionTokens), timings, stats.FinishReason, generator.Name, prompt);
    }

    private (string Question, List<RagMessage> History, string System) ResolveConversation(RagRequest request)
    {
        var messages = request.Messages ?? [];
        var system = new StringBuilder(_defaults.SystemPrompt);
        var turns = new List<RagMessage>();
        for (int i = 0; i < messages.Count; i++)
        {
            var m = messages[i];
            if (m is null || string.IsNullOrEmpty(m.Content))
            {
                throw new VectorStoreException(ErrorCode.InvalidArgument, $"messages[{i}].content: must be a non-empty string.", $"messages[{i}].content");
            }
            string role = m.Role?.ToLowerInvariant() ?? "";
            switch (role)
            {
                // "developer" is what current OpenAI code sends for system instructions.
                case "system" or "developer":
                    // Keep the citation instruction and add the caller's on top of it.
                    system.Append('\n').Append(m.Content);
                    break;
                case "user" or "assistant":
                    turns.Add(new RagMessage(role, m.Content));
                    break;
                default:
                    throw new VectorStoreException(ErrorCode.InvalidArgument, $"messages[{i}].role: must be system, developer, user or assistant, was '{m.Role}'.", $"messages[{i}].role");
            }
        }
        string? question = request.Question;
        if (string.IsNullOrWhiteSpace(question))
        {
            int last = turns.FindLastIndex(t => t.Role == "user");
            if (last < 0)
            {
                throw new VectorStoreException(ErrorCode.InvalidArgument, "question: give a question or at least one user message.", "question");
            }
            question = turns[last].Content;
            turns.RemoveRange(last, turns.Count - last);
        }
        if (question.Length > engine.Options.Limits.MaxTextLength)
        {
            throw new VectorStoreException(ErrorCode.LimitExceeded, $"question: {question.Length} characters; the limit is {engine.Options.Limits.MaxTextLength}.", "question");
        }
        return (question, turns, system.ToString());
    }

    private static double Ms(long from, long to) => Stopwatch.GetElapsedTime(from, to).TotalMilliseconds;
}
