using System.CommandLine;
using VectorStoreDb.Benchmarks.Cluster;
using VectorStoreDb.Benchmarks.Embedding;
using VectorStoreDb.Benchmarks.Engine;
using VectorStoreDb.Benchmarks.Index;
using VectorStoreDb.Benchmarks.Rag;
using VectorStoreDb.Benchmarks.Server;

var root = new RootCommand("VectorStore benchmarks: every number is printed beside a baseline measured in the same run.");
root.Subcommands.Add(IngestBenchmark.CreateCommand());
root.Subcommands.Add(ListingBenchmark.CreateCommand());

var models = new Option<string>("--models") { Description = "Model folders (comma-separated) to benchmark.", DefaultValueFactory = _ => "../shared/models/minilm-l6-arch-random,../shared/models/vs-encoder-small" };
var batches = new Option<string>("--batches") { Description = "Comma-separated batch sizes.", DefaultValueFactory = _ => "1,8,32" };
var seconds = new Option<double>("--seconds") { Description = "Minimum measuring time per configuration and side.", DefaultValueFactory = _ => 2.0 };
var encoderThreads = new Option<int>("--threads") { Description = "ONNX Runtime intra-op threads.", DefaultValueFactory = _ => Environment.ProcessorCount };
var encoder = new Command("encoder", "Encoder service (tokenize + micro-batch + run + pool) vs raw InferenceSession.Run on the same pre-tokenized batches.")
{
    models, batches, seconds, encoderThreads,
};
encoder.SetAction(result => EncoderBenchmark.Run(
    [.. result.GetValue(models)!.Split(',', StringSplitOptions.RemoveEmptyEntries)],
    [.. result.GetValue(batches)!.Split(',').Select(int.Parse)],
    result.GetValue(seconds), result.GetValue(encoderThreads)));
root.Subcommands.Add(encoder);

var model = new Option<string>("--model") { Description = "Model folder used to embed the pairs.", DefaultValueFactory = _ => "../shared/models/vs-encoder-small" };
var pairs = new Option<int>("--pairs") { Description = "Held-out pairs to use (queries = short texts, documents = long texts).", DefaultValueFactory = _ => 2000 };
var fraction = new Option<double>("--fraction") { Description = "Index dimension as a fraction of the full dimension.", DefaultValueFactory = _ => 0.5 };
var projection = new Command("projection", "recall@10 of projected (random / PCA) + rescored search against full-dimension exact search.")
{
    model, pairs, fraction,
};
projection.SetAction(result => ProjectionBenchmark.Run(result.GetValue(model)!, result.GetValue(pairs), result.GetValue(fraction)));
root.Subcommands.Add(projection);
var exactVectors = new Option<int>("--vectors") { Description = "Vectors to scan.", DefaultValueFactory = _ => 100_000 };
var exactDim = new Option<int>("--dim") { Description = "Vector dimension.", DefaultValueFactory = _ => 384 };
var exactQueries = new Option<int>("--queries") { Description = "Queries per measurement round.", DefaultValueFactory = _ => 30 };
var exactBaseline = new Option<string?>("--baseline-bin") { Description = "Path of the compiled hnswlib/FAISS scan harness (run-exact.sh builds it); omit to skip the peers." };
var exactBatches = new Option<string>("--batches") { Description = "Comma-separated batch sizes for the batched rows (empty: none).", DefaultValueFactory = _ => "64,1000" };
var exactData = new Option<string?>("--data") { Description = "Folder with *_base.fvecs and *_query.fvecs (e.g. ../shared/data/ann/siftsmall) to scan instead of generated vectors." };
var exactBinary = new Option<string>("--binary-oversampling") { Description = "Comma-separated oversampling factors of the binary + rescore rows.", DefaultValueFactory = _ => "8,20" };
var exact = new Command("exact", "Exact-scan throughput, one query on one thread: ExactIndex next to the bandwidth ceiling, hnswlib BruteforceSearch and FAISS IndexFlat; then batches on all cores.") { exactVectors, exactDim, exactQueries, exactBaseline, exactBatches, exactData, exactBinary };
exact.SetAction(result => ExactBenchmark.Run(result.GetValue(exactVectors), result.GetValue(exactDim), result.GetValue(exactQueries), result.GetValue(exactBaseline),
    [.. result.GetValue(exactBatches)!.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse)], result.GetValue(exactData),
    [.. result.GetValue(exactBinary)!.Split(',', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse)]));
root.Subcommands.Add(exact);

var data = new Option<string>("--data") { Description = "Folder with *_base.fvecs, *_query.fvecs and optionally *_groundtruth.ivecs.", DefaultValueFactory = _ => "../shared/data/ann/siftsmall" };
var random = new Option<int>("--random") { Description = "Generate N random base vectors instead of reading --data.", DefaultValueFactory = _ => 0 };
var dim = new Option<int>("--dim") { Description = "Dimension of --random vectors.", DefaultValueFactory = _ => 128 };
var queryCount = new Option<int>("--query-count") { Description = "Queries generated with --random.", DefaultValueFactory = _ => 1000 };
var m = new Option<int>("--m") { Description = "HNSW M (both libraries).", DefaultValueFactory = _ => 16 };
var efConstruction = new Option<int>("--ef-construction") { Description = "HNSW efConstruction (both libraries).", DefaultValueFactory = _ => 200 };
var efs = new Option<string>("--ef") { Description = "Comma-separated ef sweep.", DefaultValueFactory = _ => "10,12,16,24,32,48,64,128,256,512" };
var threads = new Option<int>("--threads") { Description = "Threads for building and the all-cores pass.", DefaultValueFactory = _ => Environment.ProcessorCount };
var minQueries = new Option<int>("--min-queries") { Description = "Each ef setting runs at least this many queries (the query set repeated).", DefaultValueFactory = _ => 2000 };
var hnswlib = new Option<string?>("--hnswlib-bin") { Description = "Path of the compiled hnswlib harness (run-ann.sh builds it); omit to skip the baseline." };
var repeat = new Option<int>("--repeat") { Description = "Runs of each library, alternating; every number is the best of them.", DefaultValueFactory = _ => 3 };
var annQuantization = new Option<string>("--quantization") { Description = "Comma-separated graphs of ours to run: none (float) and/or int8 (walked over int8 codes, rescored).", DefaultValueFactory = _ => "none" };
var latent = new Option<int>("--latent") { Description = "With --random: generate on a Gaussian subspace of this many dimensions (plus --noise) instead of uniform noise.", DefaultValueFactory = _ => 0 };
var noise = new Option<float>("--noise") { Description = "With --latent: standard deviation of the isotropic noise added to every dimension.", DefaultValueFactory = _ => 0.05f };
var graphCache = new Option<string?>("--graph-cache") { Description = "Folder to save built graphs in (ours and hnswlib's) and load them from on later runs with the same data and settings: search-only re-measurements." };
var ann = new Command("ann", "HNSW recall/QPS/latency sweep against hnswlib on the same data.") { data, random, dim, queryCount, m, efConstruction, efs, threads, minQueries, hnswlib, repeat, annQuantization, latent, noise, graphCache };
ann.SetAction(result => AnnBenchmark.Run(new AnnOptions(
    result.GetValue(data)!, result.GetValue(random), result.GetValue(dim), result.GetValue(queryCount), result.GetValue(m),
    result.GetValue(efConstruction), [.. result.GetValue(efs)!.Split(',').Select(int.Parse)], result.GetValue(threads),
    result.GetValue(minQueries), result.GetValue(hnswlib), result.GetValue(repeat),
    [.. result.GetValue(annQuantization)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)], result.GetValue(latent), result.GetValue(noise), result.GetValue(graphCache))));
root.Subcommands.Add(ann);

root.Subcommands.Add(GenerateBenchmark.CreateCommand());
root.Subcommands.Add(ProjectedSearchBenchmark.CreateCommand());
root.Subcommands.Add(RestIngestBenchmark.CreateCommand());
root.Subcommands.Add(HybridCommands.Hybrid());
root.Subcommands.Add(HybridCommands.SciFact());
root.Subcommands.Add(VectorStoreDb.Benchmarks.Engine.SciFactEncodersBenchmark.CreateCommand());
root.Subcommands.Add(ClusterBenchmark.CreateCommand());

return root.Parse(args).Invoke();
