using System.CommandLine;
using System.Globalization;
using Grpc.Core;
using Microsoft.Extensions.AI;
using VectorStoreDb.Client;
using VectorStoreDb.Client.Embedded;

namespace VectorStoreDb.Cli;

/// <summary>
/// The <c>vectorstore</c> command line. Every command talks to <see cref="IVectorStoreClient"/>: a server over
/// gRPC (<c>--server</c>, <c>--api-key</c>) or a local data folder in-process (<c>--data</c>).
/// </summary>
public static class CliApp
{
    /// <summary>The default gRPC address of a local server.</summary>
    public const string DefaultServer = "http://127.0.0.1:6334";

    private static readonly Option<string?> ServerOption = new("--server", "-s")
    {
        Description = $"gRPC address of a VectorStore server (default {DefaultServer}; env VECTORSTORE_SERVER).",
        Recursive = true,
    };

    private static readonly Option<string?> ApiKeyOption = new("--api-key")
    {
        Description = "API key sent as 'authorization: Bearer' (env VECTORSTORE_API_KEY).",
        Recursive = true,
    };

    private static readonly Option<string?> DataOption = new("--data")
    {
        Description = "Open this data folder in-process instead of connecting to a server (the server must not have it open).",
        Recursive = true,
    };

    private static readonly Option<string> CollectionOption = new("--collection", "-c") { Description = "Collection name.", Required = true };

    /// <summary>Runs the command line; returns the process exit code (0 ok, 1 refused or failed, 2 usage).</summary>
    public static Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken) =>
        RunAsync(args, Console.In, output, error, cancellationToken);

    /// <summary>Runs the command line with <paramref name="input"/> as standard input (read by <c>chat</c> without a question).</summary>
    public static async Task<int> RunAsync(string[] args, TextReader input, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var root = new RootCommand("VectorStore command line: import, export, query, chat, snapshots and collections.");
        root.Add(ServerOption);
        root.Add(ApiKeyOption);
        root.Add(DataOption);
        root.Add(ImportCommand(output, error));
        root.Add(ExportCommand(output, error));
        root.Add(QueryCommand(output, error));
        root.Add(ChatCommand(input, output, error));
        root.Add(CollectionsCommand(output, error));
        root.Add(SnapshotCommand(output, error));
        var parse = root.Parse(args);
        return await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancellationToken);
    }

    private static Command ImportCommand(TextWriter output, TextWriter error)
    {
        var file = new Argument<FileInfo>("file") { Description = "A .jsonl file ({id,text,metadata,vector} per line) or a .csv file (id,text columns; the others become metadata)." };
        var create = new Option<bool>("--create") { Description = "Create the collection first if it does not exist." };
        var metric = new Option<string?>("--metric") { Description = "cosine, dot or l2 (with --create)." };
        var encoder = new Option<string?>("--encoder") { Description = "Encoder for the new collection, or 'none' with --dimension (with --create)." };
        var dimension = new Option<int?>("--dimension") { Description = "Vector dimension when --encoder none (with --create)." };
        var batch = new Option<int>("--batch") { Description = "Documents per upsert call.", DefaultValueFactory = _ => 256 };
        var restart = new Option<bool>("--restart") { Description = "Ignore an existing checkpoint and import from the first line." };
        var progress = new Option<string>("--progress")
        {
            Description = "auto (a bar on a terminal, lines when redirected), bar, lines or none.",
            DefaultValueFactory = _ => "auto",
        };
        progress.AcceptOnlyFromAmong("auto", "bar", "lines", "none");
        var command = new Command("import", "Import documents; resumable: a checkpoint file next to the input records the last committed line.")
        {
            file, CollectionOption, create, metric, encoder, dimension, batch, restart, progress,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(parse, error, async client =>
        {
            string collection = parse.GetValue(CollectionOption)!;
            if (parse.GetValue(create))
            {
                await EnsureCollectionAsync(client, collection, parse.GetValue(metric), parse.GetValue(encoder), parse.GetValue(dimension), cancellationToken);
            }
            var shown = parse.GetValue(progress) switch
            {
                "bar" => ImportProgress.Bar,
                "lines" => ImportProgress.Lines,
                "none" => ImportProgress.None,
                // A bar only where a person watches it redraw: the process's own console, not redirected.
                _ => ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected ? ImportProgress.Bar : ImportProgress.Lines,
            };
            var importer = new Importer(client, output, shown);
            await importer.ImportAsync(parse.GetValue(file)!, collection, parse.GetValue(batch), parse.GetValue(restart), cancellationToken);
        }));
        return command;
    }

    private static Command ExportCommand(TextWriter output, TextWriter error)
    {
        var file = new Argument<FileInfo>("out") { Description = "Output .jsonl file ({id,text,metadata,vector} per line)." };
        var noVectors = new Option<bool>("--no-vectors") { Description = "Leave vectors out (re-import then re-embeds the text)." };
        var command = new Command("export", "Export a collection to JSON lines.") { file, CollectionOption, noVectors };
        command.SetAction((parse, cancellationToken) => RunAsync(parse, error, async client =>
        {
            long written = await Exporter.ExportAsync(client, parse.GetValue(CollectionOption)!, parse.GetValue(file)!, !parse.GetValue(noVectors), cancellationToken);
            await output.WriteLineAsync($"Exported {written:N0} documents to {parse.GetValue(file)!.FullName}");
        }));
        return command;
    }

    private static Command QueryCommand(TextWriter output, TextWriter error)
    {
        var text = new Argument<string>("text") { Description = "Query text." };
        var k = new Option<int>("-k", "--k") { Description = "Number of results.", DefaultValueFactory = _ => 10 };
        var filter = new Option<string?>("--filter") { Description = "Metadata filter as JSON, e.g. {\"kind\":\"pet\"}." };
        var chunks = new Option<bool>("--chunks") { Description = "One line per matching chunk of long documents instead of per document." };
        var command = new Command("query", "Nearest neighbours of a text.") { text, CollectionOption, k, filter, chunks };
        command.SetAction((parse, cancellationToken) => RunAsync(parse, error, async client =>
        {
            var hits = await client.QueryAsync(parse.GetValue(CollectionOption)!,
                new SearchQuery { Text = parse.GetValue(text), K = parse.GetValue(k), Filter = parse.GetValue(filter), Chunks = parse.GetValue(chunks) }, cancellationToken);
            foreach (var hit in hits)
            {
                // A long document matched through one chunk: show that chunk, which is what matched.
                string snippet = (hit.Highlight?.Text ?? hit.Text ?? "").ReplaceLineEndings(" ");
                string where = hit.Highlight is { } h ? $" #{h.Chunk}" : "";
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{hit.Score,9:F4}  {hit.Id}{where}  {(snippet.Length > 80 ? snippet[..77] + "..." : snippet)}"));
            }
        }));
        return command;
    }

    private static Command ChatCommand(TextReader input, TextWriter output, TextWriter error)
    {
        var question = new Argument<string?>("question") { Description = "The question; without one, reads questions from standard input, one a line, until it ends.", Arity = ArgumentArity.ZeroOrOne };
        var k = new Option<int?>("-k", "--k") { Description = "Passages to retrieve (default: the server's, 4)." };
        var maxTokens = new Option<int?>("--max-tokens") { Description = "Most tokens to generate." };
        var temperature = new Option<float?>("--temperature") { Description = "Sampling temperature (0 = greedy)." };
        var generator = new Option<string?>("--generator") { Description = "Generator name (default: the server's; 'extractive' needs no model)." };
        var filter = new Option<string?>("--filter") { Description = "Metadata filter on the retrieved passages, as JSON." };
        var command = new Command("chat", "Ask questions answered from a collection (RAG), streaming the answer, then its citations.")
        {
            question, CollectionOption, k, maxTokens, temperature, generator, filter,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(parse, error, async client =>
        {
            string collection = parse.GetValue(CollectionOption)!;
            var options = new ChatOptions
            {
                MaxOutputTokens = parse.GetValue(maxTokens),
                Temperature = parse.GetValue(temperature),
                ModelId = parse.GetValue(generator),
                AdditionalProperties = [],
            };
            if (parse.GetValue(k) is { } passages)
            {
                options.AdditionalProperties["k"] = passages;
            }
            if (parse.GetValue(filter) is { } json)
            {
                options.AdditionalProperties["filter"] = json;
            }
            using var chat = client is EmbeddedVectorStore embedded
                ? embedded.AsChatClient(collection)
                : new VectorStoreChatClient(ServerAddress(parse), collection, new VectorStoreClientOptions { ApiKey = ApiKey(parse) });
            var runner = new ChatRunner(chat, options, output);
            if (parse.GetValue(question) is { Length: > 0 } text)
            {
                await runner.AskAsync(text, cancellationToken);
            }
            else
            {
                // Prompt only when a person types: piped questions give clean output.
                await runner.LoopAsync(input, ReferenceEquals(input, Console.In) && !Console.IsInputRedirected, cancellationToken);
            }
        }));
        return command;
    }

    private static Command CollectionsCommand(TextWriter output, TextWriter error)
    {
        var list = new Command("list", "List collections.");
        list.SetAction((parse, cancellationToken) => RunAsync(parse, error, async client =>
        {
            foreach (var c in await client.ListCollectionsAsync(cancellationToken))
            {
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{c.Name}\t{c.Metric.ToString().ToLowerInvariant()}\t{c.Encoder ?? "none"}\t{c.Dimension}\t{c.Index}\t{c.DocumentCount} documents"));
            }
        }));

        var name = new Argument<string>("name") { Description = "Collection name." };
        var metric = new Option<string?>("--metric") { Description = "cosine, dot or l2." };
        var encoder = new Option<string?>("--encoder") { Description = "Encoder (default demo), or 'none' with --dimension." };
        var dimension = new Option<int?>("--dimension") { Description = "Vector dimension when --encoder none." };
        var index = new Option<string?>("--index") { Description = "hnsw or exact." };
        var create = new Command("create", "Create a collection.") { name, metric, encoder, dimension, index };
        create.SetAction((parse, cancellationToken) => RunAsync(parse, error, async client =>
        {
            var created = await client.CreateCollectionAsync(parse.GetValue(name)!, new CollectionOptions
            {
                Metric = ParseMetric(parse.GetValue(metric)),
                Encoder = parse.GetValue(encoder),
                Dimension = parse.GetValue(dimension),
                Index = parse.GetValue(index),
            }, cancellationToken);
            await output.WriteLineAsync($"Created {created.Name} ({created.Metric.ToString().ToLowerInvariant()}, dimension {created.Dimension})");
        }));

        var deleteName = new Argument<string>("name") { Description = "Collection name." };
        var delete = new Command("delete", "Delete a collection and all its documents.") { deleteName };
        delete.SetAction((parse, cancellationToken) => RunAsync(parse, error, async client =>
        {
            await client.DeleteCollectionAsync(parse.GetValue(deleteName)!, cancellationToken);
            await output.WriteLineAsync($"Deleted {parse.GetValue(deleteName)}");
        }));
        return new Command("collections", "Manage collections.") { list, create, delete };
    }

    private static Command SnapshotCommand(TextWriter output, TextWriter error)
    {
        var name = new Option<string?>("--name") { Description = "Snapshot name (default: a timestamp)." };
        var create = new Command("create", "Snapshot a collection (consistent point-in-time copy).") { CollectionOption, name };
        create.SetAction((parse, cancellationToken) => RunAsync(parse, error, async client =>
        {
            var snapshot = await client.CreateSnapshotAsync(parse.GetValue(CollectionOption)!, parse.GetValue(name), cancellationToken);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Created snapshot {snapshot.Name} of {snapshot.Collection} ({snapshot.SizeBytes:N0} bytes)"));
        }));
        var list = new Command("list", "List a collection's snapshots.") { CollectionOption };
        list.SetAction((parse, cancellationToken) => RunAsync(parse, error, async client =>
        {
            foreach (var snapshot in await client.ListSnapshotsAsync(parse.GetValue(CollectionOption)!, cancellationToken))
            {
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{snapshot.Name}\t{snapshot.SizeBytes}\t{snapshot.CreatedAt:O}"));
            }
        }));
        var snapshotName = new Argument<string>("snapshot") { Description = "Snapshot name." };
        var target = new Option<string>("--target") { Description = "New collection to restore into.", Required = true };
        var restore = new Command("restore", "Restore a snapshot into a new collection.") { CollectionOption, snapshotName, target };
        restore.SetAction((parse, cancellationToken) => RunAsync(parse, error, async client =>
        {
            var restored = await client.RestoreSnapshotAsync(parse.GetValue(CollectionOption)!, parse.GetValue(snapshotName)!, parse.GetValue(target)!, cancellationToken);
            await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"Restored {restored.Name} ({restored.DocumentCount:N0} documents)"));
        }));
        var deleteName = new Argument<string>("snapshot") { Description = "Snapshot name." };
        var delete = new Command("delete", "Delete a snapshot.") { CollectionOption, deleteName };
        delete.SetAction((parse, cancellationToken) => RunAsync(parse, error, async client =>
        {
            await client.DeleteSnapshotAsync(parse.GetValue(CollectionOption)!, parse.GetValue(deleteName)!, cancellationToken);
            await output.WriteLineAsync($"Deleted snapshot {parse.GetValue(deleteName)}");
        }));
        return new Command("snapshot", "Create, list, restore and delete collection snapshots (kept beside the collection, on the server when remote).")
        {
            create, list, restore, delete,
        };
    }

    private static async Task EnsureCollectionAsync(IVectorStoreClient client, string name, string? metric, string? encoder, int? dimension, CancellationToken cancellationToken)
    {
        try
        {
            await client.CreateCollectionAsync(name, new CollectionOptions { Metric = ParseMetric(metric), Encoder = encoder, Dimension = dimension }, cancellationToken);
        }
        catch (VectorStoreClientException e) when (e.Code == VectorStoreErrorCode.AlreadyExists)
        {
            // --create is idempotent, so a resumed import can repeat it.
        }
    }

    private static DistanceMetric? ParseMetric(string? metric) => metric?.Trim().ToLowerInvariant() switch
    {
        null => null,
        "cosine" => DistanceMetric.Cosine,
        "dot" => DistanceMetric.Dot,
        "l2" or "euclidean" => DistanceMetric.L2,
        _ => throw new VectorStoreClientException(VectorStoreErrorCode.InvalidArgument, $"--metric: expected cosine, dot or l2, got '{metric}'.", "metric"),
    };

    /// <summary>Opens the client the global options ask for, runs the body, and turns refusals into a message and exit code 1.</summary>
    private static async Task<int> RunAsync(ParseResult parse, TextWriter error, Func<IVectorStoreClient, Task> body)
    {
        try
        {
            using var client = Open(parse);
            await body(client);
            return 0;
        }
        catch (VectorStoreClientException e) when (e.Code == VectorStoreErrorCode.Cancelled)
        {
            await error.WriteLineAsync("Interrupted.");
            return 130;
        }
        catch (VectorStoreClientException e) when (IsUnreachable(e))
        {
            // gRPC's own text ("Error connecting to subchannel.") names neither the address nor what to do about it.
            await error.WriteLineAsync($"error: no VectorStore server answers at {ServerAddress(parse)} ({e.Message}). "
                + "Start one with 'dotnet run --project src/Server' (gRPC listens on REST port + 1, default 6334), "
                + "or point --server / VECTORSTORE_SERVER at a running one, or use --data <folder> to work without a server.");
            return 1;
        }
        catch (VectorStoreClientException e)
        {
            await error.WriteLineAsync($"error: {e.Message}{(e.Code is VectorStoreErrorCode.Unauthenticated or VectorStoreErrorCode.PermissionDenied ? " (check --api-key)" : "")}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            await error.WriteLineAsync("Interrupted.");
            return 130;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"error: {e.Message}");
            return 1;
        }
    }

    /// <summary>
    /// A connection that never reached a server: the channel attaches the socket error as the status's debug exception,
    /// which a server's own UNAVAILABLE answer (a damaged collection) never has.
    /// </summary>
    private static bool IsUnreachable(VectorStoreClientException e) =>
        e.Code == VectorStoreErrorCode.Unavailable && e.InnerException is RpcException { Status.DebugException: not null };

    private static IVectorStoreClient Open(ParseResult parse)
    {
        string? data = parse.GetValue(DataOption);
        if (data is not null)
        {
            return EmbeddedVectorStore.Open(data);
        }
        return new VectorStoreGrpcClient(ServerAddress(parse), new VectorStoreClientOptions { ApiKey = ApiKey(parse) });
    }

    private static Uri ServerAddress(ParseResult parse) =>
        new(parse.GetValue(ServerOption) ?? Environment.GetEnvironmentVariable("VECTORSTORE_SERVER") ?? DefaultServer);

    private static string? ApiKey(ParseResult parse) => parse.GetValue(ApiKeyOption) ?? Environment.GetEnvironmentVariable("VECTORSTORE_API_KEY");
}
