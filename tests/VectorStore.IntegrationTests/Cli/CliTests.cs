using System.Globalization;
using System.Text;
using System.Text.Json;
using VectorStoreDb.Cli;
using VectorStoreDb.Client;
using VectorStoreDb.Client.Embedded;

namespace VectorStoreDb.IntegrationTests.Cli;

/// <summary>The <c>vectorstore</c> tool, run in-process through its entry point against embedded folders and a real server.</summary>
public sealed class CliTests : IDisposable
{
    private readonly TempFolder _folder = new();

    private string Data => Path.Combine(_folder.Path, "data");

    public void Dispose() => _folder.Dispose();

    private static async Task<(int Exit, string Output, string Error)> Run(params string[] args) => await Run(CancellationToken.None, null, args);

    private static async Task<(int Exit, string Output, string Error)> Run(CancellationToken cancellationToken, TextWriter? output, params string[] args)
    {
        var outText = output ?? new StringWriter(CultureInfo.InvariantCulture);
        var error = new StringWriter(CultureInfo.InvariantCulture);
        int exit = await CliApp.RunAsync(args, outText, error, cancellationToken);
        return (exit, outText.ToString() ?? "", error.ToString());
    }

    private string WriteFile(string name, string content)
    {
        string path = Path.Combine(_folder.Path, name);
        File.WriteAllText(path, content, new UTF8Encoding(false));
        return path;
    }

    private static string JsonLines(int count) => string.Join('\n', Enumerable.Range(1, count).Select(i =>
        JsonSerializer.Serialize(new { id = $"doc{i}", text = $"document number {i} about {(i % 2 == 0 ? "cats" : "cars")}", metadata = new { n = i, kind = i % 2 == 0 ? "pet" : "vehicle" } }))) + "\n";

    [Fact]
    public async Task A_server_that_does_not_answer_is_named_with_how_to_start_one()
    {
        string address = $"http://127.0.0.1:{LoopbackPort.Free()}";

        var (exit, _, error) = await Run("collections", "list", "--server", address);

        Assert.Equal(1, exit);
        Assert.Contains($"no VectorStore server answers at {address}", error, StringComparison.Ordinal);
        Assert.Contains("dotnet run --project src/Server", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Import_jsonl_creates_the_collection_and_query_finds_documents()
    {
        string file = WriteFile("docs.jsonl", JsonLines(10) + """{"text":"no id: gets a stable one","metadata":{"tags":["a","b"],"ok":true}}""" + "\n");
        var (exit, output, error) = await Run("import", file, "--collection", "docs", "--create", "--metric", "cosine", "--encoder", "demo", "--batch", "4", "--data", Data);
        Assert.True(exit == 0, error);
        Assert.Contains("Imported 11 documents into docs", output, StringComparison.Ordinal);
        Assert.False(File.Exists(Importer.CheckpointPath(new FileInfo(file))), "a finished import leaves no checkpoint");

        using (var store = EmbeddedVectorStore.Open(Data))
        {
            Assert.Equal(11, await store.CountAsync("docs"));
            var doc = await store.GetDocumentAsync("docs", "doc4");
            Assert.Equal("pet", doc.Metadata["kind"]);
            Assert.Equal(4.0, doc.Metadata["n"]);
            var generated = await store.GetDocumentAsync("docs", "docs-11");
            Assert.Equal(true, generated.Metadata["ok"]);
        }

        var query = await Run("query", "--collection", "docs", "document number 4 about cats", "-k", "3", "--filter", """{"kind":"pet"}""", "--data", Data);
        Assert.Equal(0, query.Exit);
        var lines = query.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.Contains("doc4", lines[0], StringComparison.Ordinal);
        Assert.DoesNotContain(lines, l => l.Contains("vehicle", StringComparison.Ordinal) || l.Contains("cars", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Query_prints_the_matching_chunk_of_a_long_document()
    {
        using (var store = EmbeddedVectorStore.Open(Data))
        {
            await store.CreateCollectionAsync("long", new CollectionOptions { ChunkTokens = 10, ChunkOverlap = 2 });
            string text = string.Join(' ', Enumerable.Repeat("granite quarry basalt", 20)) + " the saxophone quartet rehearsed " + string.Join(' ', Enumerable.Repeat("marble", 20));
            await store.UpsertAsync("long", [new DocumentWrite { Id = "essay", Text = text }]);
        }
        var query = await Run("query", "-c", "long", "saxophone quartet", "-k", "1", "--data", Data);
        Assert.True(query.Exit == 0, query.Error);
        var line = Assert.Single(query.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Matches(@"essay #\d+ ", line);
        Assert.Contains("saxophone", line, StringComparison.Ordinal);

        var chunks = await Run("query", "-c", "long", "saxophone quartet", "-k", "4", "--chunks", "--data", Data);
        Assert.Equal(4, chunks.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task Import_csv_maps_extra_columns_to_typed_metadata_and_handles_quotes()
    {
        string file = WriteFile("items.csv", "id,text,year,kind,active\r\n" +
            "a,\"cats, kittens and \"\"purring\"\"\",2021,pet,true\r\n" +
            "b,\"a text\nover two lines\",2019,vehicle,false\r\n" +
            ",no id here,2020,pet,true\r\n");
        var (exit, output, error) = await Run("import", file, "-c", "items", "--create", "--data", Data);
        Assert.True(exit == 0, error);
        Assert.Contains("Imported 3 documents", output, StringComparison.Ordinal);

        using var store = EmbeddedVectorStore.Open(Data);
        var a = await store.GetDocumentAsync("items", "a");
        Assert.Equal("cats, kittens and \"purring\"", a.Text);
        Assert.Equal(2021.0, a.Metadata["year"]);
        Assert.Equal(true, a.Metadata["active"]);
        Assert.Equal("a text\nover two lines", (await store.GetDocumentAsync("items", "b")).Text);
        Assert.Equal("no id here", (await store.GetDocumentAsync("items", "items-3")).Text);
        var recent = await store.QueryAsync("items", new SearchQuery { Text = "cats", K = 10, Filter = """{"year":{"$gte":2020}}""" });
        Assert.Equal(["a", "items-3"], recent.Select(h => h.Id).Order().ToArray());
    }

    [Fact]
    public async Task Import_progress_is_a_bar_redrawn_in_place_lines_or_nothing_as_asked()
    {
        string file = WriteFile("progress.jsonl", JsonLines(300));
        var bar = await Run("import", file, "-c", "bar", "--create", "--encoder", "demo", "--batch", "10", "--progress", "bar", "--data", Data);
        Assert.True(bar.Exit == 0, bar.Error);
        // Redraws start with a carriage return and never end a line; the finished bar is full and ends its line.
        Assert.Contains("\r[", bar.Output, StringComparison.Ordinal);
        Assert.Contains("[##############################] 100%  300 documents", bar.Output, StringComparison.Ordinal);
        string[] lines = bar.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("Imported 300 documents into bar", lines[1], StringComparison.Ordinal);

        var quiet = await Run("import", file, "-c", "quiet", "--create", "--encoder", "demo", "--batch", "10", "--progress", "none", "--data", Data);
        Assert.True(quiet.Exit == 0, quiet.Error);
        Assert.StartsWith("Imported 300 documents into quiet", quiet.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("ETA", quiet.Output, StringComparison.Ordinal);

        var wrong = await Run("import", file, "-c", "wrong", "--progress", "sparkles", "--data", Data);
        Assert.NotEqual(0, wrong.Exit);
        Assert.Contains("sparkles", wrong.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Interrupted_import_resumes_from_the_checkpoint()
    {
        string file = WriteFile("big.jsonl", JsonLines(1000));
        using var cancel = new CancellationTokenSource();
        // Interrupt (as Ctrl+C would) as soon as the first batch reports progress.
        var output = new CallbackWriter(line =>
        {
            if (line.Contains("docs/s", StringComparison.Ordinal))
            {
                cancel.Cancel();
            }
        });
        var first = await Run(cancel.Token, output, "import", file, "-c", "big", "--create", "--batch", "100", "--data", Data);
        Assert.Equal(130, first.Exit);
        string checkpoint = Importer.CheckpointPath(new FileInfo(file));
        Assert.True(File.Exists(checkpoint));
        long committed = JsonDocument.Parse(File.ReadAllText(checkpoint)).RootElement.GetProperty("record").GetInt64();
        Assert.True(committed is >= 100 and < 1000, $"checkpoint at {committed}");
        using (var store = EmbeddedVectorStore.Open(Data))
        {
            Assert.Equal(committed, await store.CountAsync("big"));
        }

        var second = await Run("import", file, "-c", "big", "--create", "--batch", "100", "--data", Data);
        Assert.True(second.Exit == 0, second.Error);
        Assert.Contains($"Resuming after record {committed:N0}", second.Output, StringComparison.Ordinal);
        Assert.Contains($"Imported {1000 - committed:N0} documents", second.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(checkpoint));
        using (var store = EmbeddedVectorStore.Open(Data))
        {
            Assert.Equal(1000, await store.CountAsync("big"));
            Assert.Equal("document number 1000 about cats", (await store.GetDocumentAsync("big", "doc1000")).Text);
        }
    }

    [Fact]
    public async Task Export_then_import_round_trips_text_metadata_and_vectors()
    {
        string file = WriteFile("src.jsonl", JsonLines(25) + """{"id":"v","text":"with a list","metadata":{"tags":["x","y"]}}""" + "\n");
        Assert.Equal(0, (await Run("import", file, "-c", "src", "--create", "--data", Data)).Exit);
        string exported = Path.Combine(_folder.Path, "out.jsonl");
        var export = await Run("export", "--collection", "src", exported, "--data", Data);
        Assert.True(export.Exit == 0, export.Error);
        Assert.Contains("Exported 26 documents", export.Output, StringComparison.Ordinal);

        string copy = Path.Combine(_folder.Path, "copy");
        Assert.Equal(0, (await Run("import", exported, "-c", "dst", "--create", "--data", copy)).Exit);
        using var source = EmbeddedVectorStore.Open(Data);
        using var target = EmbeddedVectorStore.Open(copy);
        Assert.Equal(26, await target.CountAsync("dst"));
        foreach (string id in new[] { "doc1", "doc13", "doc25", "v" })
        {
            var a = await source.GetDocumentAsync("src", id, includeVector: true);
            var b = await target.GetDocumentAsync("dst", id, includeVector: true);
            Assert.Equal(a.Text, b.Text);
            Assert.Equal(JsonSerializer.Serialize(a.Metadata), JsonSerializer.Serialize(b.Metadata));
            // Cosine vectors are normalised again on import: equal up to float rounding.
            Assert.Equal(a.Vector!.Length, b.Vector!.Length);
            Assert.All(a.Vector.Zip(b.Vector), p => Assert.Equal(p.First, p.Second, 1e-6f));
        }
    }

    [Fact]
    public async Task Collections_list_create_delete_and_errors_exit_1()
    {
        Assert.Equal(0, (await Run("collections", "create", "raw", "--encoder", "none", "--dimension", "3", "--metric", "l2", "--data", Data)).Exit);
        var list = await Run("collections", "list", "--data", Data);
        Assert.Contains("raw\tl2\tnone\t3", list.Output, StringComparison.Ordinal);
        var again = await Run("collections", "create", "raw", "--data", Data);
        Assert.Equal(1, again.Exit);
        Assert.Contains("error:", again.Error, StringComparison.Ordinal);
        Assert.Equal(0, (await Run("collections", "delete", "raw", "--data", Data)).Exit);
        Assert.DoesNotContain("raw", (await Run("collections", "list", "--data", Data)).Output, StringComparison.Ordinal);
        Assert.Equal(1, (await Run("query", "-c", "missing", "x", "--data", Data)).Exit);
    }

    [Fact]
    public async Task Snapshot_create_list_restore_on_a_data_folder()
    {
        string file = WriteFile("snap.jsonl", JsonLines(5));
        Assert.Equal(0, (await Run("import", file, "-c", "snap", "--create", "--data", Data)).Exit);
        var created = await Run("snapshot", "create", "-c", "snap", "--name", "s1", "--data", Data);
        Assert.True(created.Exit == 0, created.Error);
        Assert.Contains("s1", (await Run("snapshot", "list", "-c", "snap", "--data", Data)).Output, StringComparison.Ordinal);
        var restored = await Run("snapshot", "restore", "-c", "snap", "s1", "--target", "snapcopy", "--data", Data);
        Assert.True(restored.Exit == 0, restored.Error);
        Assert.Contains("5 documents", restored.Output, StringComparison.Ordinal);
    }

    private const string Facts = """
        {"id":"cats","text":"Cats sleep for about sixteen hours a day. They hunt at dawn and dusk."}
        {"id":"tea","text":"Green tea is made from unoxidised leaves. Tea was first drunk in China."}
        {"id":"paris","text":"Paris is the capital of France. The Seine flows through the city."}
        """;

    [Fact]
    public async Task Chat_on_a_data_folder_streams_the_answer_then_the_citations()
    {
        Assert.Equal(0, (await Run("import", WriteFile("facts.jsonl", Facts), "-c", "kb", "--create", "--data", Data)).Exit);
        var (exit, output, error) = await Run("chat", "How long do cats sleep?", "-c", "kb", "-k", "2", "--max-tokens", "64", "--temperature", "0", "--data", Data);
        Assert.True(exit == 0, error);
        Assert.Contains("sixteen hours", output, StringComparison.Ordinal);
        var citations = output.Split('\n').Where(l => l.StartsWith('[')).ToArray();
        Assert.Equal(2, citations.Length);
        Assert.Matches(@"^\[1\] cats  chunk 0  score \d\.\d{4}", citations[0]);
        // The answer comes first, the citations after it.
        Assert.True(output.IndexOf("sixteen", StringComparison.Ordinal) < output.IndexOf("[1] cats", StringComparison.Ordinal));

        var missing = await Run("chat", "q", "-c", "nope", "--data", Data);
        Assert.Equal(1, missing.Exit);
        Assert.Contains("nope", missing.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chat_without_a_question_answers_each_line_of_stdin_until_it_ends()
    {
        Assert.Equal(0, (await Run("import", WriteFile("facts.jsonl", Facts), "-c", "kb", "--create", "--data", Data)).Exit);
        var output = new StringWriter(CultureInfo.InvariantCulture);
        var error = new StringWriter(CultureInfo.InvariantCulture);
        using var input = new StringReader("Where was tea first drunk?\n\nWhat is the capital of France?\n");
        int exit = await CliApp.RunAsync(["chat", "-c", "kb", "-k", "1", "--data", Data], input, output, error, CancellationToken.None);
        Assert.True(exit == 0, error.ToString());
        string text = output.ToString();
        Assert.Contains("China", text, StringComparison.Ordinal);
        Assert.Contains("capital of France", text, StringComparison.Ordinal);
        Assert.Equal(["[1] tea", "[1] paris"], text.Split('\n').Where(l => l.StartsWith('[')).Select(l => l[..(l.IndexOf("  ", StringComparison.Ordinal))]));
        Assert.DoesNotContain("> ", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Export_on_a_data_folder_pages_through_more_than_one_cursor_page()
    {
        Assert.Equal(0, (await Run("import", WriteFile("many.jsonl", JsonLines(Exporter.PageSize * 2 + 7)), "-c", "many", "--create", "--data", Data)).Exit);
        string exported = Path.Combine(_folder.Path, "many-out.jsonl");
        var export = await Run("export", "-c", "many", exported, "--no-vectors", "--data", Data);
        Assert.True(export.Exit == 0, export.Error);
        var ids = File.ReadAllLines(exported).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("id").GetString()!).ToArray();
        Assert.Equal(Enumerable.Range(1, Exporter.PageSize * 2 + 7).Select(i => $"doc{i}").Order(StringComparer.Ordinal), ids);
        Assert.DoesNotContain("\"vector\"", File.ReadAllText(exported), StringComparison.Ordinal);
    }

    private sealed class CallbackWriter(Action<string> onLine) : StringWriter(CultureInfo.InvariantCulture)
    {
        public override void WriteLine(string? value)
        {
            base.WriteLine(value);
            onLine(value ?? "");
        }

        public override Task WriteLineAsync(string? value)
        {
            WriteLine(value);
            return Task.CompletedTask;
        }
    }
}

/// <summary>The tool against a real server with API keys.</summary>
public class CliRemoteTests(AuthServerFixture server) : IClassFixture<AuthServerFixture>
{
    [Fact]
    public async Task Import_query_and_chat_over_grpc_with_an_api_key()
    {
        using var folder = new TempFolder();
        string file = Path.Combine(folder.Path, "remote.jsonl");
        await File.WriteAllTextAsync(file, """
            {"id":"r1","text":"remote cats"}
            {"id":"r2","text":"remote cars"}
            """);
        string name = ServerFixture.UniqueName("cli");
        var output = new StringWriter(CultureInfo.InvariantCulture);
        var error = new StringWriter(CultureInfo.InvariantCulture);

        int denied = await CliApp.RunAsync(["import", file, "-c", name, "--create", "--server", server.GrpcAddress.ToString()], output, error, CancellationToken.None);
        Assert.Equal(1, denied);
        Assert.Contains("--api-key", error.ToString(), StringComparison.Ordinal);

        int ok = await CliApp.RunAsync(["import", file, "-c", name, "--create", "--server", server.GrpcAddress.ToString(), "--api-key", AuthServerFixture.AdminKey], output, error, CancellationToken.None);
        Assert.True(ok == 0, error.ToString());
        var query = new StringWriter(CultureInfo.InvariantCulture);
        Assert.Equal(0, await CliApp.RunAsync(["query", "-c", name, "remote cats", "-k", "1", "--server", server.GrpcAddress.ToString(), "--api-key", AuthServerFixture.ReadKey], query, error, CancellationToken.None));
        Assert.Contains("r1", query.ToString(), StringComparison.Ordinal);

        var chat = new StringWriter(CultureInfo.InvariantCulture);
        var chatError = new StringWriter(CultureInfo.InvariantCulture);
        Assert.Equal(1, await CliApp.RunAsync(["chat", "remote cats?", "-c", name, "--server", server.GrpcAddress.ToString()], TextReader.Null, chat, chatError, CancellationToken.None));
        Assert.Contains("--api-key", chatError.ToString(), StringComparison.Ordinal);
        int answered = await CliApp.RunAsync(["chat", "remote cats?", "-c", name, "-k", "1", "--server", server.GrpcAddress.ToString(), "--api-key", AuthServerFixture.ReadKey],
            TextReader.Null, chat, chatError, CancellationToken.None);
        Assert.True(answered == 0, chatError.ToString());
        Assert.Contains("[1] r1", chat.ToString(), StringComparison.Ordinal);
    }
}

/// <summary>The tool against a real server without auth: export, snapshots and chat over gRPC.</summary>
public class CliServerTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private async Task<(int Exit, string Output, string Error)> Run(params string[] args)
    {
        var output = new StringWriter(CultureInfo.InvariantCulture);
        var error = new StringWriter(CultureInfo.InvariantCulture);
        int exit = await CliApp.RunAsync([.. args, "--server", server.GrpcAddress.ToString()], TextReader.Null, output, error, CancellationToken.None);
        return (exit, output.ToString(), error.ToString());
    }

    private async Task<string> CollectionAsync(int documents)
    {
        string name = ServerFixture.UniqueName("cli");
        using var client = new VectorStoreGrpcClient(server.GrpcAddress);
        await client.CreateCollectionAsync(name);
        var texts = new[] { "Cats sleep for about sixteen hours a day.", "Green tea was first drunk in China.", "Paris is the capital of France." };
        for (int start = 0; start < documents; start += 500)
        {
            await client.UpsertAsync(name, Enumerable.Range(start, Math.Min(500, documents - start)).Select(i => new DocumentWrite
            {
                Id = $"r{i:D4}",
                Text = texts[i % texts.Length] + $" Fact {i}.",
                Metadata = new Dictionary<string, object?> { ["n"] = i },
            }));
        }
        return name;
    }

    [Fact]
    public async Task Export_from_a_server_streams_every_document_through_the_cursor_and_round_trips()
    {
        int count = Exporter.PageSize * 3 + 1;
        string name = await CollectionAsync(count);
        using var folder = new TempFolder();
        string file = Path.Combine(folder.Path, "remote.jsonl");
        var export = await Run("export", "-c", name, file);
        Assert.True(export.Exit == 0, export.Error);
        Assert.Contains($"Exported {count:N0} documents", export.Output, StringComparison.Ordinal);
        var lines = File.ReadAllLines(file).Select(l => JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"r{i:D4}"), lines.Select(l => l.GetProperty("id").GetString()));
        Assert.All(lines, l => Assert.Equal(DemoDimension, l.GetProperty("vector").GetArrayLength()));
        Assert.Equal(17, lines[17].GetProperty("metadata").GetProperty("n").GetInt32());

        // Back into an embedded folder: the same documents and vectors.
        string data = Path.Combine(folder.Path, "data");
        var import = await CliApp.RunAsync(["import", file, "-c", "copy", "--create", "--data", data], TextWriter.Null, TextWriter.Null, CancellationToken.None);
        Assert.Equal(0, import);
        using var copy = EmbeddedVectorStore.Open(data);
        using var remote = new VectorStoreGrpcClient(server.GrpcAddress);
        Assert.Equal(count, await copy.CountAsync("copy"));
        var a = await remote.GetDocumentAsync(name, "r0100", includeVector: true);
        var b = await copy.GetDocumentAsync("copy", "r0100", includeVector: true);
        Assert.Equal(a.Text, b.Text);
        Assert.All(a.Vector!.Zip(b.Vector!), p => Assert.Equal(p.First, p.Second, 1e-6f));

        var missing = await Run("export", "-c", ServerFixture.UniqueName("none"), file);
        Assert.Equal(1, missing.Exit);
    }

    private static int DemoDimension => VectorStoreDb.Embedding.DemoEncoder.DefaultDimension;

    [Fact]
    public async Task Snapshot_create_list_restore_delete_against_a_server()
    {
        string name = await CollectionAsync(5);
        var created = await Run("snapshot", "create", "-c", name, "--name", "s1");
        Assert.True(created.Exit == 0, created.Error);
        Assert.Contains("Created snapshot s1", created.Output, StringComparison.Ordinal);
        Assert.Contains("s1\t", (await Run("snapshot", "list", "-c", name)).Output, StringComparison.Ordinal);
        string target = ServerFixture.UniqueName("restored");
        var restored = await Run("snapshot", "restore", "-c", name, "s1", "--target", target);
        Assert.True(restored.Exit == 0, restored.Error);
        Assert.Contains("5 documents", restored.Output, StringComparison.Ordinal);
        using var client = new VectorStoreGrpcClient(server.GrpcAddress);
        Assert.Equal(5, await client.CountAsync(target));
        Assert.Equal(0, (await Run("snapshot", "delete", "-c", name, "s1")).Exit);
        Assert.DoesNotContain("s1", (await Run("snapshot", "list", "-c", name)).Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chat_against_a_server_streams_the_answer_and_cites_documents()
    {
        string name = await CollectionAsync(3);
        var (exit, output, error) = await Run("chat", "How long do cats sleep?", "-c", name, "-k", "2", "--max-tokens", "64");
        Assert.True(exit == 0, error);
        Assert.Contains("sixteen hours", output, StringComparison.Ordinal);
        var citations = output.Split('\n').Where(l => l.StartsWith('[')).ToArray();
        Assert.Equal(2, citations.Length);
        Assert.StartsWith("[1] r0000  chunk 0  score ", citations[0], StringComparison.Ordinal);

        var missing = await Run("chat", "q", "-c", ServerFixture.UniqueName("none"));
        Assert.Equal(1, missing.Exit);
        Assert.Contains("error:", missing.Error, StringComparison.Ordinal);
    }
}
