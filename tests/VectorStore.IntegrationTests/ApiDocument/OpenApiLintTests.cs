using System.Diagnostics;
using VectorStoreDb.IntegrationTests.Docs;

namespace VectorStoreDb.IntegrationTests.ApiDocument;

/// <summary>The served <c>/openapi/v1.json</c> passes a real OpenAPI linter (Redocly's recommended rules) with no errors.</summary>
public sealed class OpenApiLintTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    public static string Redocly => Repository.File(".tools", "redocly", "node_modules", ".bin", "redocly");

    [RedoclyFact]
    public async Task Served_document_has_no_lint_errors()
    {
        string file = Path.Combine(Path.GetTempPath(), $"openapi-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, await server.Http.GetStringAsync("/openapi/v1.json"));
        try
        {
            var start = new ProcessStartInfo(Redocly) { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string argument in (string[])["lint", file, "--format=stylish"])
            {
                start.ArgumentList.Add(argument);
            }
            start.Environment["REDOCLY_TELEMETRY"] = "off";
            start.Environment["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true";
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await process.WaitForExitAsync(timeout.Token);
            string report = await output + await errors;
            // Redocly exits non-zero when any rule at error level fails (warnings are listed, not fatal).
            Assert.True(process.ExitCode == 0, $"redocly lint found errors:\n{report}");
        }
        finally
        {
            File.Delete(file);
        }
    }
}
