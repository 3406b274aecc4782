using Orleans.Serialization;
using Orleans.Storage;

namespace VectorStoreDb.Cluster.Storage;

/// <summary>
/// Grain state in files (one per grain, written to a temporary file and renamed into place), for Localhost clustering:
/// the nodes of a one-machine cluster share <paramref name="folder"/>, so the catalog survives restarts of every node.
/// A multi-machine cluster keeps the catalog in Redis or SQL instead.
/// </summary>
internal sealed class FileGrainStorage(string folder, Serializer serializer) : IGrainStorage
{
    public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        string path = PathOf(stateName, grainId);
        if (!File.Exists(path))
        {
            grainState.RecordExists = false;
            return Task.CompletedTask;
        }
        byte[] content = File.ReadAllBytes(path);
        grainState.State = serializer.Deserialize<T>(content);
        grainState.ETag = Convert.ToHexString(System.IO.Hashing.XxHash64.Hash(content));
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        string path = PathOf(stateName, grainId);
        if (File.Exists(path) && grainState.ETag is { } expected
            && Convert.ToHexString(System.IO.Hashing.XxHash64.Hash(File.ReadAllBytes(path))) != expected)
        {
            throw new InconsistentStateException($"The stored state of {grainId} changed since it was read.");
        }
        byte[] content = serializer.SerializeToArray(grainState.State);
        Directory.CreateDirectory(folder);
        string temp = path + ".tmp";
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            file.Write(content);
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
        grainState.ETag = Convert.ToHexString(System.IO.Hashing.XxHash64.Hash(content));
        grainState.RecordExists = true;
        return Task.CompletedTask;
    }

    public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        File.Delete(PathOf(stateName, grainId));
        grainState.ETag = null;
        grainState.RecordExists = false;
        return Task.CompletedTask;
    }

    private string PathOf(string stateName, GrainId grainId)
    {
        string name = $"{stateName}-{grainId}";
        foreach (char c in Path.GetInvalidFileNameChars())
        {
            name = name.Replace(c, '_');
        }
        return Path.Combine(folder, name + ".bin");
    }
}
