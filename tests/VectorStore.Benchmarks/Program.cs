using VectorStore.Benchmarks;

// One command per benchmark, each in its own file, so branches add commands without touching each other's code.
var commands = new Dictionary<string, Func<string[], Task<int>>>(StringComparer.OrdinalIgnoreCase)
{
    ["generate"] = GenerateBenchmark.RunAsync,
};
if (args.Length == 0 || !commands.TryGetValue(args[0], out var command))
{
    Console.Error.WriteLine($"usage: VectorStore.Benchmarks <{string.Join("|", commands.Keys)}> [options]");
    return 2;
}
return await command(args[1..]);
