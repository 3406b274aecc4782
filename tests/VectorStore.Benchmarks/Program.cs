using System.CommandLine;
using VectorStore.Benchmarks;

var root = new RootCommand("VectorStore benchmarks: every number is printed beside a baseline measured in the same run.");
root.Subcommands.Add(IngestBenchmark.CreateCommand());

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

return root.Parse(args).Invoke();
