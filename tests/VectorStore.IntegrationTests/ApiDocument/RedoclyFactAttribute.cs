namespace VectorStoreDb.IntegrationTests.ApiDocument;

/// <summary>
/// A fact that runs Redocly CLI, which test.sh installs from npm into <c>.tools/redocly</c>: skipped with the reason
/// where it is not installed, but it runs (and fails) when <c>CI=true</c>, so CI never silently skips the lint.
/// </summary>
public sealed class RedoclyFactAttribute : FactAttribute
{
    public RedoclyFactAttribute()
    {
        if (!File.Exists(OpenApiLintTests.Redocly) && !SharedData.IsCi)
        {
            Skip = $"needs Redocly CLI at {OpenApiLintTests.Redocly}; ./test.sh installs it (npm install --prefix .tools/redocly @redocly/cli).";
        }
    }
}
