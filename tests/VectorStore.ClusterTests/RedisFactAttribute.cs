namespace VectorStoreDb.ClusterTests;

/// <summary>A test that needs Debian's <c>redis-server</c>: skipped without it on a developer machine, a failure when <c>CI=true</c>.</summary>
public sealed class RedisFactAttribute : FactAttribute
{
    public RedisFactAttribute()
    {
        if (RedisServer.Executable is null && Environment.GetEnvironmentVariable("CI") != "true")
        {
            Skip = "redis-server not found (test.sh installs it; set CI=true to make this a failure).";
        }
    }
}
