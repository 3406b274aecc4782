namespace VectorStoreDb.Tests;

/// <summary>
/// A fact that needs a data set file from <c>shared/</c> (path relative to it, e.g. <c>data/ann/siftsmall/siftsmall_base.fvecs</c>):
/// skipped with the reason on a machine without it, but it runs (and fails) when <c>CI=true</c>, so CI can never
/// silently skip a data set test.
/// </summary>
public sealed class DataFactAttribute : FactAttribute
{
    public DataFactAttribute(string relativePath)
    {
        if (TestData.SharedFile(relativePath) is null && !TestModels.IsCi)
        {
            Skip = $"needs shared/{relativePath}, which is not there (set CI=true to make this a failure; {TestData.SharedFolderVariable} says where shared/ is).";
        }
    }
}
