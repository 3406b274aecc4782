using System.CommandLine;

namespace VectorStoreDb.Benchmarks.Engine;

/// <summary>The <c>hybrid</c> and <c>scifact</c> commands (hybrid search: BM25 beside the vectors).</summary>
internal static class HybridCommands
{
    public static Command Hybrid()
    {
        var docs = new Option<int>("--docs") { Description = "Generated documents.", DefaultValueFactory = _ => 100_000 };
        var queries = new Option<int>("--queries") { Description = "Queries per mode.", DefaultValueFactory = _ => 300 };
        var hybrid = new Command("hybrid", "Query latency/QPS for dense, text and hybrid, and ingest documents/s with and without the text index.") { docs, queries };
        hybrid.SetAction((result, cancellationToken) => HybridBenchmark.RunAsync(result.GetValue(docs), result.GetValue(queries), cancellationToken));
        return hybrid;
    }

    public static Command SciFact()
    {
        var path = new Option<string>("--data") { Description = "BEIR SciFact folder (corpus.jsonl, queries.jsonl, qrels/test.tsv).", DefaultValueFactory = _ => "../shared/data/beir/scifact" };
        var onnx = new Option<string?>("--onnx") { Description = "Also run with this ONNX sentence encoder folder (model.onnx + vocab.txt), e.g. ../shared/models/vs-encoder-small." };
        var scifact = new Command("scifact", "nDCG@10 on BEIR SciFact for dense, text (BM25) and hybrid RRF/DBSF at several weights.") { path, onnx };
        scifact.SetAction((result, cancellationToken) => SciFactBenchmark.RunAsync(result.GetValue(path)!, result.GetValue(onnx), cancellationToken));
        return scifact;
    }
}
