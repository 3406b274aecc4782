namespace VectorStoreDb.IntegrationTests;

/// <summary>
/// A fact that needs <c>shared/data/beir/scifact</c>: skipped with the reason on a machine without it, but it runs
/// (and fails) when <c>CI=true</c>, so CI can never silently skip it.
/// </summary>
public sealed class SciFactFactAttribute : FactAttribute
{
    public SciFactFactAttribute()
    {
        if (Folder is null && !SharedData.IsCi)
        {
            Skip = $"needs shared/data/beir/scifact, which is not there (set CI=true to make this a failure; {SharedData.FolderVariable} says where shared/ is).";
        }
    }

    /// <summary>The SciFact folder (corpus.jsonl, queries.jsonl, qrels/), or null.</summary>
    public static string? Folder =>
        SharedData.Folder is { } shared && Path.Combine(shared, "data", "beir", "scifact") is var folder && File.Exists(Path.Combine(folder, "corpus.jsonl")) ? folder : null;
}
