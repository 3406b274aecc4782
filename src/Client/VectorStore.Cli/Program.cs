using VectorStore.Cli;

return await CliApp.RunAsync(args, Console.Out, Console.Error, CancellationToken.None);
