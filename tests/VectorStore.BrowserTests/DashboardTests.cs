using System.Text.Json;
using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using VectorStoreDb.IntegrationTests;
using static Microsoft.Playwright.Assertions;

namespace VectorStoreDb.BrowserTests;

/// <summary>
/// The dashboard in a real headless Chromium against the real server: every step is what a person would do
/// (labels, roles, keyboard), and every page ends with no JavaScript error in the console.
/// </summary>
public sealed class DashboardTests(DashboardFixture fixture) : IClassFixture<DashboardFixture>, IAsyncLifetime
{
    private readonly List<string> _consoleErrors = [];
    private IBrowserContext _context = null!;
    private IPage _page = null!;

    private ServerFixture Server => fixture.Server;

    private HttpClient Http => fixture.Server.Http;

    public async Task InitializeAsync()
    {
        _context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = Server.RestAddress.ToString(),
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
        });
        _context.SetDefaultTimeout(10_000);
        _page = await _context.NewPageAsync();
        _page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                _consoleErrors.Add(message.Text);
            }
        };
        _page.PageError += (_, error) => _consoleErrors.Add(error);
    }

    public async Task DisposeAsync() => await _context.CloseAsync();

    private async Task Screenshot(string name) =>
        await _page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(DashboardFixture.ScreenshotFolder, $"{name}.png"), FullPage = true });

    /// <summary>A refused request shows up in the console as a failed resource load; only script errors count.</summary>
    private void AssertNoScriptErrors() =>
        Assert.DoesNotContain(_consoleErrors, e => !e.StartsWith("Failed to load resource", StringComparison.Ordinal));

    private async Task<string> CreateCollectionWithDocumentsAsync(params object[] documents)
    {
        string name = ServerFixture.UniqueName("dash");
        await Server.CreateDemoCollectionAsync(name);
        var response = await Http.PostAsJsonAsync($"/collections/{name}/documents", new { documents });
        response.EnsureSuccessStatusCode();
        return name;
    }

    private static readonly object[] Pets =
    [
        new { id = "tom", text = "cats are small furry pets that purr", metadata = new { kind = "pet", year = 2021 } },
        new { id = "rex", text = "dogs are loyal pets that bark", metadata = new { kind = "pet", year = 2019 } },
        new { id = "market", text = "the stock market fell sharply today", metadata = new { kind = "finance", year = 2022 } },
        new { id = "rain", text = "heavy rain is expected over the weekend", metadata = new { kind = "weather", year = 2023 } },
    ];

    [Fact]
    public async Task Dashboard_is_served_offline_with_its_own_assets_only()
    {
        var external = new List<string>();
        _page.Request += (_, request) =>
        {
            if (!request.Url.StartsWith(Server.RestAddress.ToString().TrimEnd('/'), StringComparison.Ordinal) && !request.Url.StartsWith("data:", StringComparison.Ordinal))
            {
                external.Add(request.Url);
            }
        };
        var response = await _page.GotoAsync("/dashboard");
        Assert.NotNull(response);
        Assert.Equal(200, response.Status);
        Assert.EndsWith("/dashboard/", _page.Url);
        await Expect(_page.GetByRole(AriaRole.Heading, new() { Name = "Collections", Level = 2 })).ToBeVisibleAsync();
        await Expect(_page).ToHaveTitleAsync(new Regex("Collections"));
        Assert.Empty(external);
        AssertNoScriptErrors();
    }

    [Fact]
    public async Task Collections_form_sets_text_chunking_and_projection_options()
    {
        string name = ServerFixture.UniqueName("opts");
        await _page.GotoAsync("/dashboard/#collections");
        await Expect(_page.GetByLabel("Index dimension")).ToBeHiddenAsync();
        await _page.GetByLabel("Name", new() { Exact = true }).FillAsync(name);
        await _page.GetByLabel("Projection").SelectOptionAsync("pca");
        await _page.GetByLabel("Index dimension").FillAsync("64");
        await _page.GetByLabel("Chunk tokens").FillAsync("100");
        await _page.GetByLabel("Chunk overlap").FillAsync("10");
        await _page.GetByLabel("Full-text index (BM25, hybrid search)").CheckAsync();
        await _page.GetByRole(AriaRole.Button, new() { Name = "Create collection" }).ClickAsync();
        await Expect(_page.Locator("#create-status")).ToHaveTextAsync($"Created {name}.");

        using var info = JsonDocument.Parse(await Http.GetStringAsync($"/collections/{name}"));
        var root = info.RootElement;
        Assert.Equal("pca", root.GetProperty("projection").GetString());
        Assert.Equal(64, root.GetProperty("indexDimension").GetInt32());
        Assert.Equal(100, root.GetProperty("chunking").GetProperty("tokens").GetInt32());
        Assert.Equal(10, root.GetProperty("chunking").GetProperty("overlap").GetInt32());
        Assert.True(root.TryGetProperty("text", out _));
        // The form was reset: the projection's dimension field is hidden again.
        await Expect(_page.GetByLabel("Index dimension")).ToBeHiddenAsync();

        // The full-text box starts checked (the server's default for an encoder collection); unchecked, it says so.
        var textBox = _page.GetByLabel("Full-text index (BM25, hybrid search)");
        await Expect(textBox).ToBeCheckedAsync();
        string plain = ServerFixture.UniqueName("opts");
        await _page.GetByLabel("Name", new() { Exact = true }).FillAsync(plain);
        await textBox.UncheckAsync();
        await _page.GetByRole(AriaRole.Button, new() { Name = "Create collection" }).ClickAsync();
        await Expect(_page.Locator("#create-status")).ToHaveTextAsync($"Created {plain}.");
        using (var plainInfo = JsonDocument.Parse(await Http.GetStringAsync($"/collections/{plain}")))
        {
            Assert.False(plainInfo.RootElement.TryGetProperty("text", out _));
        }
        await Expect(textBox).ToBeCheckedAsync();

        // The server's refusal shows on the page, naming the option.
        await _page.GetByLabel("Name", new() { Exact = true }).FillAsync(ServerFixture.UniqueName("opts"));
        await _page.GetByLabel("Chunk tokens").FillAsync("16");
        await _page.GetByLabel("Chunk overlap").FillAsync("16");
        await _page.GetByRole(AriaRole.Button, new() { Name = "Create collection" }).ClickAsync();
        await Expect(_page.Locator("#create-error")).ToContainTextAsync("chunkOverlap");

        // Raw vectors: a dimension instead of the text options.
        await _page.GetByLabel("Encoder").SelectOptionAsync("");
        await Expect(_page.GetByLabel("Dimension", new() { Exact = true })).ToBeVisibleAsync();
        await Expect(_page.GetByLabel("Chunk tokens")).ToBeHiddenAsync();
        AssertNoScriptErrors();
    }

    [Fact]
    public async Task Collections_create_from_the_form_and_delete_with_confirmation()
    {
        string name = ServerFixture.UniqueName("form");
        await _page.GotoAsync("/dashboard/#collections");

        await _page.GetByLabel("Name", new() { Exact = true }).FillAsync(name);
        await _page.GetByLabel("Metric").SelectOptionAsync("dot");
        await _page.GetByLabel("Index", new() { Exact = true }).SelectOptionAsync("exact");
        await _page.GetByRole(AriaRole.Button, new() { Name = "Create collection" }).ClickAsync();

        var row = _page.Locator("#collections-table tbody tr", new() { Has = _page.GetByRole(AriaRole.Rowheader, new() { Name = name, Exact = true }) });
        await Expect(row).ToBeVisibleAsync();
        await Expect(_page.Locator("#create-status")).ToHaveTextAsync($"Created {name}.");
        await Expect(row.Locator("td").Nth(1)).ToHaveTextAsync("dot");
        await Expect(row.Locator("td").Nth(2)).ToHaveTextAsync("demo");
        await Expect(row.Locator("td").Nth(4)).ToHaveTextAsync("exact");
        Assert.Equal(HttpStatusCode.OK, (await Http.GetAsync($"/collections/{name}")).StatusCode);

        // A bad name is refused on the page, before any request.
        await _page.GetByLabel("Name", new() { Exact = true }).FillAsync("bad name!");
        await _page.GetByRole(AriaRole.Button, new() { Name = "Create collection" }).ClickAsync();
        await Expect(_page.Locator("#create-error")).ToContainTextAsync("Name:");
        await Expect(_page.GetByLabel("Name", new() { Exact = true })).ToHaveAttributeAsync("aria-invalid", "true");
        await Screenshot("collections");

        // Cancel keeps it; confirming deletes it.
        var dialog = _page.GetByRole(AriaRole.Dialog);
        await row.GetByRole(AriaRole.Button, new() { Name = $"Delete collection {name}" }).ClickAsync();
        await Expect(dialog).ToBeVisibleAsync();
        await Expect(dialog).ToContainTextAsync(name);
        await Screenshot("collections-confirm-delete");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        await Expect(dialog).ToBeHiddenAsync();
        Assert.Equal(HttpStatusCode.OK, (await Http.GetAsync($"/collections/{name}")).StatusCode);

        await row.GetByRole(AriaRole.Button, new() { Name = $"Delete collection {name}" }).ClickAsync();
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Delete collection" }).ClickAsync();
        await Expect(row).ToHaveCountAsync(0);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync($"/collections/{name}")).StatusCode);
        AssertNoScriptErrors();
    }

    [Fact]
    public async Task Search_shows_the_matching_chunk_of_a_long_document()
    {
        string name = ServerFixture.UniqueName("dash");
        (await Http.PutAsJsonAsync($"/collections/{name}", new { chunkTokens = 12, chunkOverlap = 2 })).EnsureSuccessStatusCode();
        string text = string.Join(' ', Enumerable.Repeat("meadow copper lantern orchard", 15)) + " the violin maker varnished seven cellos " + string.Join(' ', Enumerable.Repeat("pebble thunder", 15));
        (await Http.PostAsJsonAsync($"/collections/{name}/documents", new { documents = new[] { new { id = "long", text } } })).EnsureSuccessStatusCode();
        await _page.GotoAsync($"/dashboard/#search/{name}");
        await _page.GetByLabel("Query", new() { Exact = true }).FillAsync("violin maker cellos");
        await _page.GetByLabel("Results (k)").FillAsync("1");
        await _page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();

        var result = _page.Locator("#search-results > li").First;
        await Expect(result.GetByRole(AriaRole.Link)).ToHaveTextAsync("long");
        // The chunk that matched is shown (with its number and range), not the start of the document.
        await Expect(result.Locator(".chunk-label")).ToContainTextAsync("chunk ");
        await Expect(result.Locator(".result-text")).ToContainTextAsync("violin");
        await Expect(result.Locator(".result-text")).Not.ToContainTextAsync("meadow copper lantern orchard meadow");
        await Expect(result.Locator("mark").First).ToHaveTextAsync("violin");
        AssertNoScriptErrors();
    }

    [Fact]
    public async Task Search_shows_the_expected_top_result_with_highlights_and_filter_errors()
    {
        string name = await CreateCollectionWithDocumentsAsync(Pets);
        await _page.GotoAsync($"/dashboard/#search/{name}");
        var panel = Panel("Search");
        await Expect(panel.GetByLabel("Collection")).ToHaveValueAsync(name);

        await _page.GetByLabel("Query", new() { Exact = true }).FillAsync("furry cats");
        await _page.GetByLabel("Results (k)").FillAsync("3");
        await _page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();

        var results = _page.Locator("#search-results > li");
        await Expect(results).ToHaveCountAsync(3);
        await Expect(results.First.GetByRole(AriaRole.Link)).ToHaveTextAsync("tom");
        await Expect(results.First.Locator("mark")).ToHaveTextAsync(["cats", "furry"]);
        await Expect(results.First).ToContainTextAsync("kind: \"pet\"");
        await Expect(_page.Locator("#search-summary")).ToContainTextAsync("3 results");
        await Screenshot("search");

        // A filter narrows the results.
        await _page.GetByLabel("Metadata filter (JSON)").FillAsync("{\"kind\": \"finance\"}");
        await _page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await Expect(results).ToHaveCountAsync(1);
        await Expect(results.First.GetByRole(AriaRole.Link)).ToHaveTextAsync("market");

        // Not JSON: refused on the page, next to the field.
        var filter = _page.GetByLabel("Metadata filter (JSON)");
        await filter.FillAsync("{\"year\": ");
        await _page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await Expect(_page.Locator("#search-filter-error")).ToContainTextAsync("Filter is not valid JSON");
        await Expect(filter).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(filter).ToBeFocusedAsync();
        await Expect(results).ToHaveCountAsync(1); // the previous results stay: nothing was sent

        // Valid JSON the server refuses: its problem detail appears next to the field.
        await filter.FillAsync("{\"year\": {\"$regex\": \"20.*\"}}");
        await _page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await Expect(_page.Locator("#search-filter-error")).ToContainTextAsync("unknown operator '$regex'");
        await Expect(results).ToHaveCountAsync(0);
        await Screenshot("search-filter-error");

        // Fixing the filter clears the message; a pasted vector searches too.
        await filter.FillAsync("");
        var vector = (await (await Http.PostAsJsonAsync("/embed", new { texts = new[] { "the stock market fell sharply today" } })).Content.ReadFromJsonAsync<EmbedResult>())!.Embeddings[0];
        await _page.GetByLabel("Query", new() { Exact = true }).FillAsync("[" + string.Join(",", vector.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + "]");
        await _page.GetByLabel("Exact (scan every vector)").CheckAsync();
        await _page.GetByRole(AriaRole.Button, new() { Name = "Search" }).ClickAsync();
        await Expect(results.First.GetByRole(AriaRole.Link)).ToHaveTextAsync("market");
        await Expect(_page.Locator("#search-filter-error")).ToBeHiddenAsync();
        await Expect(filter).Not.ToHaveAttributeAsync("aria-invalid", "true");
        AssertNoScriptErrors();
    }

    /// <summary>A dashboard section by its accessible name (each is a labelled region).</summary>
    private ILocator Panel(string name) => _page.GetByRole(AriaRole.Region, new() { Name = name, Exact = true });

    private ILocator NavLink(string name) => _page.GetByRole(AriaRole.Navigation).GetByRole(AriaRole.Link, new() { Name = name, Exact = true });

    private sealed record EmbedResult(float[][] Embeddings);

    [Fact]
    public async Task Browse_pages_through_documents_opens_one_and_deletes_it()
    {
        var documents = Enumerable.Range(0, 30)
            .Select(i => (object)new { id = $"doc-{i:D2}", text = $"document number {i} about topic {i % 3}", metadata = new { n = i } })
            .ToArray();
        string name = await CreateCollectionWithDocumentsAsync(documents);
        await _page.GotoAsync($"/dashboard/#browse/{name}");
        await Expect(Panel("Browse").GetByLabel("Collection")).ToHaveValueAsync(name);
        await _page.GetByLabel("Page size").SelectOptionAsync("25");

        var rows = _page.Locator("#browse-table tbody tr");
        await Expect(rows).ToHaveCountAsync(25);
        await Expect(rows.First.GetByRole(AriaRole.Rowheader)).ToHaveTextAsync("doc-00");
        await Expect(_page.Locator("#browse-range")).ToHaveTextAsync("Showing 1–25 of 30");
        await Expect(_page.GetByRole(AriaRole.Button, new() { Name = "Previous page" })).ToBeDisabledAsync();
        await _page.GetByRole(AriaRole.Button, new() { Name = "Next page" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync(5);
        await Expect(rows.First.GetByRole(AriaRole.Rowheader)).ToHaveTextAsync("doc-25");
        await Expect(_page.GetByRole(AriaRole.Button, new() { Name = "Next page" })).ToBeDisabledAsync();
        await _page.GetByRole(AriaRole.Button, new() { Name = "Previous page" }).ClickAsync();
        await Expect(rows).ToHaveCountAsync(25);

        await _page.GetByRole(AriaRole.Link, new() { Name = "doc-07", Exact = true }).ClickAsync();
        var view = _page.GetByRole(AriaRole.Article);
        await Expect(view).ToBeVisibleAsync();
        await Expect(_page.GetByRole(AriaRole.Heading, new() { Name = "Document doc-07" })).ToBeFocusedAsync();
        await Expect(_page.Locator("#doc-text")).ToHaveTextAsync("document number 7 about topic 1");
        await Expect(_page.Locator("#doc-metadata")).ToContainTextAsync("\"n\": 7");
        await _page.GetByRole(AriaRole.Button, new() { Name = "Show vector" }).ClickAsync();
        await Expect(_page.Locator("#doc-vector")).ToContainTextAsync("256 dimensions");
        await Screenshot("browse-document");

        await _page.GetByRole(AriaRole.Button, new() { Name = "Delete document", Exact = true }).ClickAsync();
        var dialog = _page.GetByRole(AriaRole.Dialog);
        await Expect(dialog).ToContainTextAsync("doc-07");
        await dialog.GetByRole(AriaRole.Button, new() { Name = "Delete document" }).ClickAsync();
        await Expect(view).ToBeHiddenAsync();
        await Expect(_page.Locator("#browse-range")).ToHaveTextAsync("Showing 1–25 of 29");
        await Expect(_page.GetByRole(AriaRole.Link, new() { Name = "doc-07", Exact = true })).ToHaveCountAsync(0);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync($"/collections/{name}/documents/doc-07")).StatusCode);
        await Screenshot("browse");
        AssertNoScriptErrors();
    }

    [Fact]
    public async Task Server_panel_shows_version_uptime_and_live_query_statistics()
    {
        string name = await CreateCollectionWithDocumentsAsync(Pets);
        for (int i = 0; i < 5; i++)
        {
            (await Http.PostAsJsonAsync($"/collections/{name}/query", new { text = "pets", k = 2 })).EnsureSuccessStatusCode();
        }
        var clusterAnswer = _page.WaitForResponseAsync(r => r.Url.EndsWith("/cluster", StringComparison.Ordinal));
        await _page.GotoAsync("/dashboard/#server");
        var stats = _page.Locator("#server-stats");
        await Expect(stats.Locator("div", new() { HasText = "Health" })).ToContainTextAsync("up, ready");
        await Expect(stats.Locator("div", new() { HasText = "Version" })).ToBeVisibleAsync();
        await Expect(stats.Locator("div", new() { HasText = "Uptime" })).ToContainTextAsync(new Regex(@"\d+s"));
        var qps = stats.Locator("div", new() { HasText = "Queries/s" }).Locator("dd");
        await Expect(qps).Not.ToHaveTextAsync("0.00");
        // The collection's documents were written a moment ago, so the last minute's ingest rate is above zero.
        await Expect(stats.Locator("div", new() { HasText = "Ingest (docs/s" }).Locator("dd")).Not.ToHaveTextAsync("0.0");
        await Expect(stats.Locator("div", new() { HasText = "Documents written since start" }).Locator("dd")).Not.ToHaveTextAsync("0");
        await Expect(stats.Locator("div", new() { HasText = "Query latency p99" })).ToContainTextAsync(" ms");
        await Expect(stats.Locator("div", new() { HasText = "Working set" })).ToContainTextAsync("MiB");
        // A single-node server answers GET /cluster with 422: the cluster section stays hidden.
        Assert.Equal(422, (await clusterAnswer).Status);
        await Expect(_page.Locator("#cluster")).ToBeHiddenAsync();
        await Screenshot("server");
        AssertNoScriptErrors();
    }

    [Fact]
    public async Task Api_key_is_kept_for_the_tab_and_sent_as_a_bearer_token_on_every_call()
    {
        var authorizations = new List<(string Url, string? Authorization)>();
        _page.Request += (_, request) =>
        {
            string path = new Uri(request.Url).AbsolutePath;
            if (path.StartsWith("/collections", StringComparison.Ordinal) || path == "/stats")
            {
                lock (authorizations)
                {
                    authorizations.Add((request.Url, request.Headers.GetValueOrDefault("authorization")));
                }
            }
        };
        await _page.GotoAsync("/dashboard/");
        await _page.GetByLabel("API key").FillAsync("vs-test-key");
        await _page.GetByRole(AriaRole.Button, new() { Name = "Save key" }).ClickAsync();
        await Expect(_page.Locator("#key-state")).ToHaveTextAsync("key set for this tab");
        Assert.Equal("vs-test-key", await _page.EvaluateAsync<string>("sessionStorage.getItem('vectorstore.apiKey')"));
        await _page.WaitForLoadStateAsync(LoadState.NetworkIdle);

        lock (authorizations)
        {
            authorizations.Clear();
        }
        await _page.ReloadAsync();
        await Expect(_page.GetByLabel("API key")).ToHaveValueAsync("vs-test-key");
        await NavLink("Server").ClickAsync();
        await Expect(_page.Locator("#server-stats")).ToContainTextAsync("Version");
        await _page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        lock (authorizations)
        {
            Assert.NotEmpty(authorizations);
            Assert.All(authorizations, a => Assert.Equal(("" + a.Url, "Bearer vs-test-key"), (a.Url, a.Authorization)));
        }

        // Cleared: no header at all.
        await _page.GetByRole(AriaRole.Button, new() { Name = "Clear" }).ClickAsync();
        await _page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        lock (authorizations)
        {
            authorizations.Clear();
        }
        await NavLink("Collections").ClickAsync();
        await Expect(_page.GetByRole(AriaRole.Heading, new() { Name = "Collections", Level = 2 })).ToBeVisibleAsync();
        await _page.GetByRole(AriaRole.Button, new() { Name = "Refresh" }).ClickAsync();
        await _page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        lock (authorizations)
        {
            Assert.NotEmpty(authorizations);
            Assert.All(authorizations, a => Assert.Null(a.Authorization));
        }
        AssertNoScriptErrors();
    }

    [Fact]
    public async Task Keyboard_only_navigation_and_a_narrow_screen()
    {
        await _page.SetViewportSizeAsync(390, 844);
        await _page.GotoAsync("/dashboard/");
        await Expect(_page.GetByRole(AriaRole.Heading, new() { Name = "Collections", Level = 2 })).ToBeVisibleAsync();

        // The first Tab reaches the skip link, then the section links in order.
        await _page.Keyboard.PressAsync("Tab");
        await Expect(_page.GetByRole(AriaRole.Link, new() { Name = "Skip to content" })).ToBeFocusedAsync();
        await _page.Keyboard.PressAsync("Tab");
        await Expect(NavLink("Collections")).ToBeFocusedAsync();
        await _page.Keyboard.PressAsync("Tab");
        await _page.Keyboard.PressAsync("Tab");
        await Expect(NavLink("Search")).ToBeFocusedAsync();
        await _page.Keyboard.PressAsync("Enter");
        await Expect(_page.GetByRole(AriaRole.Heading, new() { Name = "Search", Level = 2 })).ToBeFocusedAsync();
        await Expect(NavLink("Search")).ToHaveAttributeAsync("aria-current", "page");

        // A visible focus ring on the focused control.
        await _page.GetByLabel("Query", new() { Exact = true }).FocusAsync();
        await _page.Keyboard.PressAsync("Shift+Tab");
        await _page.Keyboard.PressAsync("Tab");
        string outline = await _page.EvaluateAsync<string>("getComputedStyle(document.activeElement).outlineStyle");
        Assert.Equal("solid", outline);

        // Nothing wider than the screen.
        Assert.True(await _page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= document.documentElement.clientWidth"));
        await Screenshot("search-narrow");
        AssertNoScriptErrors();
    }
}
