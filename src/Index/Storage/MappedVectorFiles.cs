using System.IO.MemoryMappedFiles;

namespace VectorStoreDb.Index;

/// <summary>
/// File-backed memory for the full vectors of <c>onDisk</c> indexes. Each chunk is a file mapped into the address
/// space and unlinked at once: the kernel pages it in and out like any file, so the vectors are neither managed
/// heap nor anonymous memory, and a collection larger than RAM still serves as long as its codes and graph fit.
/// The files are a cache, never the durable copy (that is the log and the checkpoints, which rebuild them on
/// start): unlinked files vanish with the process, even after <c>kill -9</c>, so nothing is left to clean up.
/// </summary>
public static class MappedVectorFiles
{
    private const string Extension = ".vectors";

    private static string _folder = Path.Combine(Path.GetTempPath(), "vectorstore-mapped");

    /// <summary>
    /// Where the chunk files are created (briefly: each is unlinked once mapped). Put it on the data disk, not a
    /// tmpfs: the engine sets it from <c>VectorStore:MappedVectorsPath</c> (default <c>&lt;DataPath&gt;/mapped</c>).
    /// </summary>
    public static string Folder
    {
        get => Volatile.Read(ref _folder);
        set => Volatile.Write(ref _folder, Path.GetFullPath(value));
    }

    /// <summary>Deletes chunk files a process killed between creating and unlinking one left behind.</summary>
    public static void SweepStaleFiles(string folder)
    {
        if (!Directory.Exists(folder))
        {
            return;
        }
        foreach (string file in Directory.EnumerateFiles(folder, "*" + Extension))
        {
            try
            {
                File.Delete(file);
            }
            catch (IOException)
            {
                // Still open elsewhere (Windows): its owner removes it.
            }
            catch (UnauthorizedAccessException)
            {
                // Not ours to remove.
            }
        }
    }

    /// <summary>Maps <paramref name="bytes"/> zeroed bytes backed by a fresh file; the returned chunk owns the mapping.</summary>
    internal static unsafe MappedChunk Map(long bytes, string folder)
    {
        // Re-created on every call: a test's data folder may have been removed while another engine still grows.
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, Guid.NewGuid().ToString("N") + Extension);
        FileStream? stream = null;
        MemoryMappedFile? file = null;
        MemoryMappedViewAccessor? view = null;
        try
        {
            // A fresh file of the right length reads as zeros (sparse): no clearing, no writes until vectors arrive.
            stream = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
            stream.SetLength(bytes);
            file = MemoryMappedFile.CreateFromFile(stream, null, bytes, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: false);
            view = file.CreateViewAccessor(0, bytes, MemoryMappedFileAccess.ReadWrite);
            byte* pointer = null;
            view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            return new MappedChunk(file, view, (IntPtr)(pointer + view.PointerOffset));
        }
        catch
        {
            view?.Dispose();
            file?.Dispose();
            stream?.Dispose();
            throw;
        }
        finally
        {
            try
            {
                // The mapping keeps the inode alive; without a name the space returns to the disk when it is unmapped.
                File.Delete(path);
            }
            catch (IOException)
            {
                // Windows cannot unlink a mapped file; SweepStaleFiles removes it at the next start.
            }
            catch (UnauthorizedAccessException)
            {
                // Same as above.
            }
        }
    }
}

/// <summary>One mapped chunk: the address and what keeps it mapped.</summary>
internal sealed class MappedChunk(MemoryMappedFile file, MemoryMappedViewAccessor view, IntPtr pointer) : IDisposable
{
    public IntPtr Pointer { get; } = pointer;

    public void Dispose()
    {
        view.SafeMemoryMappedViewHandle.ReleasePointer();
        view.Dispose();
        file.Dispose();
    }
}
