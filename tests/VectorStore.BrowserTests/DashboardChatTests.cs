using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using VectorStoreDb.IntegrationTests;
using static Microsoft.Playwright.Assertions;

namespace VectorStoreDb.BrowserTests;

/// <summary>
/// The Chat panel against the real RAG endpoint (server-sent events) with the built-in extractive generator,
/// which needs no model files: tokens stream into the answer and the citations link to their documents.
/// </summary>
public sealed class DashboardChatTests(DashboardFixture fixture) : IClassFixture<DashboardFixture>, IAsyncLifetime
{
    private readonly List<string> _consoleErrors = [];
    private IBrowserContext _context = null!;
    private IPage _page = null!;

    public async Task InitializeAsync()
    {
        _context = await fixture.Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = fixture.Server.RestAddress.ToString(),
            ViewportSize = new ViewportSize { Width = 1280, Height = 900 },
        });
        _context.SetDefaultTimeout(15_000);
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

    [Fact]
    public async Task Chat_streams_an_answer_and_links_its_citations_to_the_documents()
    {
        string name = ServerFixture.UniqueName("chat");
        await fixture.Server.CreateDemoCollectionAsync(name);
        (await fixture.Server.Http.PostAsJsonAsync($"/collections/{name}/documents", new
        {
            documents = new object[]
            {
                new { id = "cats", text = "Cats sleep for about sixteen hours a day. They hunt at dawn and dusk.", metadata = new { topic = "pets" } },
                new { id = "tea", text = "Green tea is made from unoxidised leaves. Tea was first drunk in China.", metadata = new { topic = "food" } },
                new { id = "paris", text = "Paris is the capital of France. The Seine flows through the city.", metadata = new { topic = "travel" } },
            },
        })).EnsureSuccessStatusCode();

        await _page.GotoAsync($"/dashboard/#chat/{name}");
        var panel = _page.GetByRole(AriaRole.Region, new() { Name = "Chat", Exact = true });
        await Expect(panel.GetByLabel("Collection")).ToHaveValueAsync(name);
        await Expect(panel.GetByLabel("Generator")).ToContainTextAsync("extractive");
        await panel.GetByLabel("Question").FillAsync("How long do cats sleep?");
        await panel.GetByLabel("Passages (k)").FillAsync("2");
        await panel.GetByLabel("Temperature").FillAsync("0.2");
        await panel.GetByLabel("Max tokens").FillAsync("64");
        await panel.GetByRole(AriaRole.Button, new() { Name = "Ask" }).ClickAsync();

        var status = _page.Locator("#chat-status");
        await Expect(status).ToContainTextAsync("Done", new() { Timeout = 30_000 });
        var answer = _page.Locator("#chat-answer");
        await Expect(answer).ToContainTextAsync("sixteen hours");
        // The answer arrived as a stream of several token events, not one block.
        Assert.True(int.Parse(await answer.GetAttributeAsync("data-tokens") ?? "0", System.Globalization.CultureInfo.InvariantCulture) > 1);
        await Expect(answer).Not.ToHaveAttributeAsync("aria-busy", "true");
        await Expect(status).ToContainTextAsync(new Regex(@"\d+ tokens"));

        // The answer's [n] markers link to the cited documents.
        await Expect(answer.GetByRole(AriaRole.Link, new() { Name = "[1]" }).First).ToHaveAttributeAsync("href", $"#browse/{name}/cats");

        var citations = _page.Locator("#chat-citations > li");
        await Expect(citations).ToHaveCountAsync(2);
        await Expect(citations.First.GetByRole(AriaRole.Link)).ToHaveTextAsync("cats");
        await _page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(DashboardFixture.ScreenshotFolder, "chat.png"), FullPage = true });

        // A citation opens its document in Browse.
        await citations.First.GetByRole(AriaRole.Link).ClickAsync();
        await Expect(_page.GetByRole(AriaRole.Heading, new() { Name = "Document cats" })).ToBeFocusedAsync();
        await Expect(_page.Locator("#doc-text")).ToContainTextAsync("Cats sleep for about sixteen hours a day.");

        // A refusal (unknown generator) shows the server's message.
        await _page.GotoAsync($"/dashboard/#chat/{name}");
        await _page.EvaluateAsync("() => { const s = document.querySelector('#chat-generator'); s.add(new Option('nope', 'nope')); s.value = 'nope'; }");
        await panel.GetByLabel("Question").FillAsync("How long do cats sleep?");
        await panel.GetByRole(AriaRole.Button, new() { Name = "Ask" }).ClickAsync();
        await Expect(_page.Locator("#chat-error")).ToContainTextAsync("nope");
        Assert.DoesNotContain(_consoleErrors, e => !e.StartsWith("Failed to load resource", StringComparison.Ordinal));
    }
}
