using System.Globalization;
using System.Text;
using System.Text.Json;
using VectorStore.Cli;
using VectorStore.Client;
using VectorStore.Client.Embedded;

namespace VectorStore.IntegrationTests;

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
    public async Task Import_and_query_over_grpc_with_an_api_key()
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
    }
}
