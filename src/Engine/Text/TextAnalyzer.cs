using Lucene.Net.Analysis;
using Lucene.Net.Analysis.En;
using Lucene.Net.Analysis.Standard;
using Lucene.Net.Analysis.TokenAttributes;
using Lucene.Net.Analysis.Util;
using Lucene.Net.Util;

namespace VectorStoreDb.Engine.Text;

/// <summary>
/// Turns text into index terms with Lucene.NET's analysers: Unicode (UAX #29) word splitting, lower-casing and,
/// for <c>english</c>, possessive stripping, the English stop words and the Porter stemmer — the same chain as
/// Lucene's <c>EnglishAnalyzer</c>, which published BEIR BM25 baselines used. Thread-safe: Lucene analysers keep
/// one token stream per thread.
/// </summary>
internal sealed class TextAnalyzer : IDisposable
{
    /// <summary>English stop words and Porter stemming.</summary>
    public const string English = "english";

    /// <summary>Word splitting and lower-casing only.</summary>
    public const string None = "none";

    public static readonly IReadOnlyList<string> Languages = [English, None];

    private readonly Analyzer _analyzer;

    public TextAnalyzer(string language)
    {
        Language = language;
        _analyzer = language switch
        {
            English => new EnglishAnalyzer(LuceneVersion.LUCENE_48),
            None => new StandardAnalyzer(LuceneVersion.LUCENE_48, CharArraySet.Empty),
            _ => throw VectorStoreException.Invalid("textLanguage", $"unknown language '{language}'; use {string.Join(" or ", Languages)}."),
        };
    }

    public string Language { get; }

    /// <summary>Each term of <paramref name="text"/> with how often it occurs; <paramref name="length"/> is the number of terms.</summary>
    public Dictionary<string, int> Analyze(string? text, out int length)
    {
        var terms = new Dictionary<string, int>(StringComparer.Ordinal);
        length = 0;
        if (string.IsNullOrWhiteSpace(text))
        {
            return terms;
        }
        using var stream = _analyzer.GetTokenStream("text", text);
        var term = stream.AddAttribute<ICharTermAttribute>();
        stream.Reset();
        while (stream.IncrementToken())
        {
            string value = term.ToString();
            terms[value] = terms.GetValueOrDefault(value) + 1;
            length++;
        }
        stream.End();
        return terms;
    }

    public void Dispose() => _analyzer.Dispose();
}
