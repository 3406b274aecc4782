using System.CommandLine;
using VectorStore.Benchmarks;

var root = new RootCommand("VectorStore benchmarks: every number is printed beside a baseline measured in the same run.");
root.Subcommands.Add(IngestBenchmark.CreateCommand());
return root.Parse(args).Invoke();
