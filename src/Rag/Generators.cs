using System.Runtime.CompilerServices;

namespace VectorStoreDb.Rag;

/// <summary>A retrieved passage as the generator sees it (best first).</summary>
public sealed record Passage(string DocumentId, string Text, float Score)
{
    /// <summary>The chunk of the document the text is (0 for a document indexed whole).</summary>
    public int Chunk { get; init; }
}

/// <summary>Everything a generator needs for one answer.</summary>
public sealed record GeneratorInput
{
    public required string Question { get; init; }

    /// <summary>Earlier turns, oldest first (the question is not among them).</summary>
    public IReadOnlyList<RagMessage> History { get; init; } = [];

    public IReadOnlyList<Passage> Passages { get; init; } = [];

    public required string SystemPrompt { get; init; }

    public SamplingOptions Sampling { get; init; } = new();

    /// <summary>Embeds texts with the collection's encoder (the extractive generator ranks sentences with it).</summary>
    public Func<IReadOnlyList<string>, CancellationToken, Task<float[][]>>? Embed { get; init; }

    /// <summary>Keep the full prompt for the response (<c>debug</c>).</summary>
    public bool Debug { get; init; }
}

/// <summary>What a generator reports while it runs.</summary>
public abstract record GeneratorEvent;

/// <summary>The prompt is built: how many passages (best first) it uses. Comes before any token.</summary>
public sealed record PromptReady(int PassagesUsed, int PromptTokens, string? Prompt) : GeneratorEvent;

/// <summary>A piece of the answer.</summary>
public sealed record TokenDelta(string Text) : GeneratorEvent;

/// <summary>The answer is complete.</summary>
public sealed record GenerationFinished(GenerationStats Stats) : GeneratorEvent;

/// <summary>Writes an answer from a question and retrieved passages.</summary>
public interface IRagGenerator
{
    string Name { get; }

    /// <summary><c>onnx</c> or <c>extractive</c>.</summary>
    string Kind { get; }

    /// <summary>Bounds concurrent generations on this generator.</summary>
    GenerationLimiter Limiter { get; }

    /// <summary>Streams <see cref="PromptReady"/>, then <see cref="TokenDelta"/>s, then <see cref="GenerationFinished"/>.</summary>
    IAsyncEnumerable<GeneratorEvent> GenerateAsync(GeneratorInput input, CancellationToken cancellationToken = default);
}

/// <summary>A local ONNX decoder answering from a templated prompt.</summary>
public sealed class OnnxRagGenerator(string name, DecoderModel model, GenerationLimiter limiter) : IRagGenerator, IDisposable
{
    public string Name { get; } = name;

    public string Kind => "onnx";

    public GenerationLimiter Limiter { get; } = limiter;

    public DecoderModel Model { get; } = model;

    public async IAsyncEnumerable<GeneratorEvent> GenerateAsync(GeneratorInput input, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        input.Sampling.Validate();
        int maxTokens = input.Sampling.MaxTokens;
        if (maxTokens >= Model.ContextWindow)
        {
            throw new VectorStoreDb.Engine.VectorStoreException(VectorStoreDb.Engine.ErrorCode.InvalidArgument,
                $"max_tokens: {maxTokens} leaves no room for a prompt in generator '{Name}' (context window {Model.ContextWindow}).", "max_tokens");
        }
        var prompt = Model.Prompts.Build(input.SystemPrompt, input.History, input.Question, [.. input.Passages.Select(p => p.Text)], Model.ContextWindow - maxTokens);
        yield return new PromptReady(prompt.PassagesUsed, prompt.Ids.Count, input.Debug ? prompt.Text : null);
        var stats = new GenerationStats();
        bool first = true;
        await foreach (string delta in Model.GenerateAsync(prompt.Ids, input.Sampling, stats, cancellationToken).ConfigureAwait(false))
        {
            // Answers follow "Assistant:"; the model's leading space belongs to the template, not the answer.
            string text = first ? delta.TrimStart() : delta;
            if (text.Length == 0)
            {
                continue;
            }
            first = false;
            yield return new TokenDelta(text);
        }
        yield return new GenerationFinished(stats);
    }

    public void Dispose()
    {
        Model.Dispose();
        Limiter.Dispose();
    }
}
