using System.Net.Http.Json;
using System.Text.Json;

namespace VectorStoreDb.IntegrationTests.Encoders;

/// <summary>
/// Retrieval quality on a 200-document slice of BEIR SciFact through the real server: the built-in model must beat
/// the demo encoder by a wide margin and the default hybrid must not lose to either of its parts. (The full-corpus
/// figures are the <c>scifact-encoders</c> benchmark command's; this slice keeps CI at seconds.)
/// </summary>
public partial class BuiltInEncoderServerTests
{
    private const int SliceDocuments = 200;

    [SciFactFact]
    public async Task On_a_SciFact_slice_minilm_beats_demo_widely_and_hybrid_matches_or_beats_both_parts()
    {
        var (documents, queries, qrels) = LoadSlice(SciFactFactAttribute.Folder ?? throw new InvalidOperationException("CI=true needs shared/data/beir/scifact"));
        Assert.Equal(SliceDocuments, documents.Count);
        Assert.True(queries.Count >= 40, $"slice has {queries.Count} queries");

        double minilmDense = 0, demoDense = 0, text = 0, hybrid = 0;
        foreach (string encoder in new[] { "minilm", "demo" })
        {
            string name = ServerFixture.UniqueName($"scifact-{encoder}");
            (await Http.PutAsJsonAsync($"/collections/{name}", new { encoder, text = true, chunking = false, index = "exact" })).EnsureSuccessStatusCode();
            for (int i = 0; i < documents.Count; i += 50)
            {
                var batch = documents.Skip(i).Take(50).Select(d => new { id = d.Id, text = d.Text }).ToArray();
                (await Http.PostAsJsonAsync($"/collections/{name}/documents", new { documents = batch })).EnsureSuccessStatusCode();
            }
            double dense = await MeanNdcgAsync(name, "dense", queries, qrels);
            if (encoder == "minilm")
            {
                minilmDense = dense;
                text = await MeanNdcgAsync(name, "text", queries, qrels);
                hybrid = await MeanNdcgAsync(name, "hybrid", queries, qrels);
            }
            else
            {
                demoDense = dense;
            }
        }
        string figures = $"minilm {minilmDense:F4}, demo {demoDense:F4}, BM25 {text:F4}, hybrid {hybrid:F4}";
        Assert.True(minilmDense >= demoDense + 0.15, figures);
        Assert.True(hybrid >= minilmDense && hybrid >= text, figures);
    }

    private async Task<double> MeanNdcgAsync(string collection, string mode, List<(string Id, string Text)> queries, Dictionary<string, Dictionary<string, int>> qrels)
    {
        double sum = 0;
        foreach (var (id, text) in queries)
        {
            var response = await Http.PostAsJsonAsync($"/collections/{collection}/query", new { text, k = 10, mode });
            response.EnsureSuccessStatusCode();
            var ranked = (await Json(response)).GetProperty("results").EnumerateArray().Select(r => r.GetProperty("id").GetString()!).ToList();
            double dcg = 0, ideal = 0;
            for (int i = 0; i < ranked.Count; i++)
            {
                dcg += qrels[id].TryGetValue(ranked[i], out int relevance) ? relevance / Math.Log2(i + 2) : 0;
            }
            int rank = 0;
            foreach (int relevance in qrels[id].Values.OrderDescending().Take(10))
            {
                ideal += relevance / Math.Log2(rank++ + 2);
            }
            sum += dcg / ideal;
        }
        return sum / queries.Count;
    }

    /// <summary>
    /// The documents judged relevant to the first test queries (by id) until half the slice is filled, then the first
    /// unjudged corpus documents as distractors; the queries are those whose relevant documents are all in the slice.
    /// </summary>
    private static (List<(string Id, string Text)> Documents, List<(string Id, string Text)> Queries, Dictionary<string, Dictionary<string, int>> Qrels) LoadSlice(string folder)
    {
        var qrels = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        foreach (string line in File.ReadLines(Path.Combine(folder, "qrels", "test.tsv")).Skip(1))
        {
            var parts = line.Split('\t');
            if (parts.Length >= 3 && int.TryParse(parts[2], out int relevance) && relevance > 0)
            {
                (qrels.TryGetValue(parts[0], out var judged) ? judged : qrels[parts[0]] = new(StringComparer.Ordinal))[parts[1]] = relevance;
            }
        }
        var corpus = new List<(string Id, string Text)>();
        foreach (string line in File.ReadLines(Path.Combine(folder, "corpus.jsonl")))
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            string title = root.TryGetProperty("title", out var t) ? t.GetString() ?? "" : "";
            corpus.Add((root.GetProperty("_id").GetString()!, (title + " " + root.GetProperty("text").GetString()).Trim()));
        }
        var chosen = new HashSet<string>(StringComparer.Ordinal);
        var queryIds = new List<string>();
        foreach (var (query, judged) in qrels.OrderBy(q => int.Parse(q.Key, System.Globalization.CultureInfo.InvariantCulture)))
        {
            if (chosen.Count + judged.Count > SliceDocuments / 2)
            {
                break;
            }
            chosen.UnionWith(judged.Keys);
            queryIds.Add(query);
        }
        var judgedAnywhere = qrels.Values.SelectMany(j => j.Keys).ToHashSet(StringComparer.Ordinal);
        var documents = corpus.Where(d => chosen.Contains(d.Id)).ToList();
        documents.AddRange(corpus.Where(d => !judgedAnywhere.Contains(d.Id)).Take(SliceDocuments - documents.Count));
        var texts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string line in File.ReadLines(Path.Combine(folder, "queries.jsonl")))
        {
            using var json = JsonDocument.Parse(line);
            texts[json.RootElement.GetProperty("_id").GetString()!] = json.RootElement.GetProperty("text").GetString()!;
        }
        return (documents, [.. queryIds.Select(id => (id, texts[id]))], qrels);
    }
}
