using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.RegularExpressions;
using VectorStoreDb.Index;

namespace VectorStoreDb.Rag;

/// <summary>
/// Answers without a language model: splits the retrieved passages into sentences, embeds them with the
/// collection's encoder and returns the ones most similar to the question (cosine), each followed by the
/// citation of its passage, e.g. "Cats sleep 16 hours a day. [2]". Always available; the default when no
/// decoder is configured. Usage and <c>max_tokens</c> count words, as there is no model tokenizer: an answer
/// longer than <c>max_tokens</c> words is cut there with finish reason <c>length</c>.
/// </summary>
public sealed partial class ExtractiveGenerator(int sentences = 3, int maxConcurrent = 0, int queueLimit = 1024) : IRagGenerator, IDisposable
{
    public const string DefaultName = "extractive";

    // Sentence candidates embedded per request; more would only slow the answer down.
    private const int MaxCandidates = 256;
    private const int EmbedBatch = 64;

    public string Name => DefaultName;

    public string Kind => "extractive";

    public GenerationLimiter Limiter { get; } = new(DefaultName, maxConcurrent > 0 ? maxConcurrent : Math.Max(2, Environment.ProcessorCount * 2), queueLimit);

    public async IAsyncEnumerable<GeneratorEvent> GenerateAsync(GeneratorInput input, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var started = Stopwatch.GetTimestamp();
        yield return new PromptReady(input.Passages.Count, 0, input.Debug ? DescribeInput(input) : null);
        var candidates = new List<(string Sentence, int Passage)>();
        for (int p = 0; p < input.Passages.Count && candidates.Count < MaxCandidates; p++)
        {
            foreach (string sentence in SplitSentences(input.Passages[p].Text))
            {
                if (candidates.Count == MaxCandidates)
                {
                    break;
                }
                candidates.Add((sentence, p));
            }
        }
        var stats = new GenerationStats { FinishReason = "stop" };
        if (candidates.Count == 0)
        {
            stats.TimeToFirstTokenMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            stats.GenerationMs = stats.TimeToFirstTokenMs;
            yield return new GenerationFinished(stats);
            yield break;
        }
        float[] scores = await ScoreAsync(input, candidates, cancellationToken).ConfigureAwait(false);
        int take = Math.Min(sentences, candidates.Count);
        var best = Enumerable.Range(0, candidates.Count)
            .Where(i => scores[i] > 0 || i == 0)
            .OrderByDescending(i => scores[i]).ThenBy(i => i)
            .Take(take)
            // Present the chosen sentences in document order, so an answer reads like the source.
            .Order()
            .ToList();
        stats.TimeToFirstTokenMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        int budget = input.Sampling.MaxTokens;
        for (int i = 0; i < best.Count; i++)
        {
            var (sentence, passage) = candidates[best[i]];
            string piece = (i > 0 ? " " : "") + sentence + $" [{passage + 1}]";
            int words = CountWords(piece);
            if (words > budget)
            {
                // max_tokens counts words here (there is no model tokenizer): cut inside the sentence and say so.
                piece = FirstWords(piece, budget);
                words = budget;
                stats.FinishReason = "length";
            }
            if (words > 0)
            {
                stats.CompletionTokens += words;
                budget -= words;
                yield return new TokenDelta(piece);
            }
            if (stats.FinishReason == "length")
            {
                break;
            }
        }
        stats.GenerationMs = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        yield return new GenerationFinished(stats);
    }

    private static async Task<float[]> ScoreAsync(GeneratorInput input, List<(string Sentence, int Passage)> candidates, CancellationToken cancellationToken)
    {
        var scores = new float[candidates.Count];
        if (input.Embed is null)
        {
            // No encoder: fall back to word overlap with the question.
            var question = Words(input.Question);
            for (int i = 0; i < candidates.Count; i++)
            {
                var words = Words(candidates[i].Sentence);
                scores[i] = words.Count == 0 ? 0 : (float)words.Count(question.Contains) / MathF.Sqrt(words.Count * Math.Max(1, question.Count));
            }
            return scores;
        }
        float[] q = (await input.Embed([input.Question], cancellationToken).ConfigureAwait(false))[0];
        float qNorm = MathF.Sqrt(VectorKernels.Dot(q, q));
        for (int start = 0; start < candidates.Count; start += EmbedBatch)
        {
            var batch = candidates.Skip(start).Take(EmbedBatch).Select(c => c.Sentence).ToList();
            float[][] vectors = await input.Embed(batch, cancellationToken).ConfigureAwait(false);
            for (int i = 0; i < vectors.Length; i++)
            {
                float norm = MathF.Sqrt(VectorKernels.Dot(vectors[i], vectors[i]));
                scores[start + i] = norm == 0 || qNorm == 0 ? 0 : VectorKernels.Dot(q, vectors[i]) / (norm * qNorm);
            }
        }
        return scores;
    }

    /// <summary>Sentences of a passage: split after . ! ? (and line breaks), trimmed, empty ones dropped.</summary>
    internal static IEnumerable<string> SplitSentences(string text) =>
        SentenceBreak().Split(text).Select(s => s.Trim()).Where(s => s.Length > 1);

    private static HashSet<string> Words(string text) =>
        [.. WordPattern().Matches(text.ToLowerInvariant()).Select(m => m.Value).Where(w => w.Length > 2)];

    private static int CountWords(string text) => WordPattern().Count(text);

    /// <summary>The text up to the end of its <paramref name="count"/>-th word.</summary>
    internal static string FirstWords(string text, int count)
    {
        int end = 0;
        foreach (var word in WordPattern().EnumerateMatches(text))
        {
            if (count-- == 0)
            {
                break;
            }
            end = word.Index + word.Length;
        }
        return text[..end];
    }

    private static string DescribeInput(GeneratorInput input)
    {
        var sb = new StringBuilder("extractive: question = ").Append(input.Question).Append('\n');
        for (int i = 0; i < input.Passages.Count; i++)
        {
            sb.Append('[').Append(i + 1).Append("] ").Append(input.Passages[i].Text).Append('\n');
        }
        return sb.ToString();
    }

    [GeneratedRegex(@"(?<=[.!?])\s+|[\r\n]+")]
    private static partial Regex SentenceBreak();

    [GeneratedRegex(@"\w+")]
    private static partial Regex WordPattern();

    public void Dispose() => Limiter.Dispose();
}
