namespace VectorStoreDb.ClusterTests;

/// <summary>A test that needs Debian's PostgreSQL server packages: skipped without them on a developer machine, a failure when <c>CI=true</c>.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (PostgresServer.BinDirectory is null && Environment.GetEnvironmentVariable("CI") != "true")
        {
            Skip = "PostgreSQL not found under /usr/lib/postgresql (test.sh installs it; set CI=true to make this a failure).";
        }
    }
}
