namespace VectorStoreDb.IntegrationTests;

/// <summary>
/// A fact that needs <c>shared/models/{model}/model.onnx</c>: skipped with the reason on a machine without it, but it
/// runs (and fails) when <c>CI=true</c>, so CI can never silently skip a model test.
/// </summary>
public sealed class ModelFactAttribute : FactAttribute
{
    public ModelFactAttribute(string model)
    {
        if (SharedData.ModelFolder(model) is null && !SharedData.IsCi)
        {
            Skip = $"needs shared/models/{model}/model.onnx, which is not there (set CI=true to make this a failure; {SharedData.FolderVariable} says where shared/ is).";
        }
    }
}
