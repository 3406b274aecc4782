namespace VectorStoreDb.Server.Operations;

/// <summary>
/// <c>VectorStore.Server --healthcheck [url]</c>: GETs the URL (default the local /healthz) and exits 0 on 2xx, 1
/// otherwise. Container images based on aspnet have no curl or wget, so the Docker HEALTHCHECK runs the server's
/// own binary in this mode.
/// </summary>
public static class HealthProbe
{
    public const string Switch = "--healthcheck";

    public const string DefaultUrl = "http://127.0.0.1:6333/healthz";

    public static bool IsRequested(string[] args) => args.Length > 0 && string.Equals(args[0], Switch, StringComparison.OrdinalIgnoreCase);

    public static async Task<int> RunAsync(string[] args, TextWriter? output = null)
    {
        output ??= Console.Out;
        string url = args.Length > 1 ? args[1] : DefaultUrl;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(3) };
        try
        {
            using var response = await http.GetAsync(new Uri(url));
            await output.WriteLineAsync($"{url}: {(int)response.StatusCode}");
            return response.IsSuccessStatusCode ? 0 : 1;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or UriFormatException)
        {
            await output.WriteLineAsync($"{url}: {e.Message}");
            return 1;
        }
    }
}
