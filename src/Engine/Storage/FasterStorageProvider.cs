using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace VectorStoreDb.Engine.Storage;

/// <summary>
/// Collections as folders under <c>{DataPath}/collections</c>: a <c>collection.json</c>, and per shard a FASTER
/// write-ahead log (<c>shard-N/wal</c>) plus checkpoints of the shard's state (<c>shard-N/checkpoints</c>).
/// Snapshots live under <c>{DataPath}/snapshots/{collection}</c>. Every file that appears under its final name
/// was written to a temporary name, fsync'd and renamed, so a crash leaves either the old or the new file.
/// </summary>
public sealed partial class FasterStorageProvider : IStorageProvider
{
    private const string SettingsFile = "collection.json";
    private const string PendingSuffix = ".pending-";
    private const string DeletedSuffix = ".deleted-";
    internal const string TempSuffix = ".tmp";
    private const string SnapshotExtension = ".vsnap";

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private readonly string _dataPath;
    private readonly string _root;
    private readonly string _snapshots;
    private readonly DurabilityOptions _durability;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;

    /// <summary>Opens (creating when needed) the data folder; fails with a clear message when it is not writable.</summary>
    public FasterStorageProvider(string dataPath, DurabilityOptions durability, ILoggerFactory loggerFactory)
    {
        _dataPath = Path.GetFullPath(dataPath);
        _root = Path.Combine(_dataPath, "collections");
        _snapshots = Path.Combine(_dataPath, "snapshots");
        _durability = durability;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<FasterStorageProvider>();
        if (!int.IsPow2(durability.LogSegmentSizeMb))
        {
            throw VectorStoreException.Invalid("Durability.LogSegmentSizeMb", $"must be a power of two, was {durability.LogSegmentSizeMb}.");
        }
        try
        {
            Directory.CreateDirectory(_root);
            Directory.CreateDirectory(_snapshots);
            // Probe now: a read-only folder should stop start-up with one clear message, not fail the first write.
            string probe = Path.Combine(_dataPath, $".write-probe-{Environment.ProcessId}");
            File.WriteAllBytes(probe, [1]);
            File.Delete(probe);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new VectorStoreException(ErrorCode.Unavailable, $"The data folder '{_dataPath}' cannot be written ({ex.Message}). Point VectorStore:DataPath at a writable folder.");
        }
        RemoveLeftovers();
    }

    public IReadOnlyList<string> ListCollections() =>
        [.. Directory.EnumerateDirectories(_root)
            .Select(Path.GetFileName)
            .Where(name => name is not null && !name.Contains(PendingSuffix, StringComparison.Ordinal) && !name.Contains(DeletedSuffix, StringComparison.Ordinal))
            .Where(name => File.Exists(Path.Combine(_root, name!, SettingsFile)))
            .Order(StringComparer.Ordinal)!];

    public CollectionSettings LoadSettings(string collection)
    {
        string path = Path.Combine(_root, collection, SettingsFile);
        return JsonSerializer.Deserialize<CollectionSettings>(File.ReadAllBytes(path), JsonOptions)
            ?? throw new InvalidDataException($"{path} is empty.");
    }

    public void CreateCollection(CollectionSettings settings)
    {
        // Build the folder under a temporary name and rename it into place, so a crash never leaves a
        // half-created collection that start-up would trip over.
        string final = Path.Combine(_root, settings.Name);
        string pending = final + PendingSuffix + Guid.NewGuid().ToString("N");
        Directory.CreateDirectory(pending);
        using (var file = new FileStream(Path.Combine(pending, SettingsFile), FileMode.CreateNew, FileAccess.Write))
        {
            JsonSerializer.Serialize(file, settings, JsonOptions);
            file.Flush(flushToDisk: true);
        }
        Directory.Move(pending, final);
        FsyncDirectory(_root);
    }

    public void DeleteCollection(string collection)
    {
        string folder = Path.Combine(_root, collection);
        if (!Directory.Exists(folder))
        {
            return;
        }
        string doomed = folder + DeletedSuffix + Guid.NewGuid().ToString("N");
        Directory.Move(folder, doomed);
        FsyncDirectory(_root);
        Directory.Delete(doomed, recursive: true);
    }

    public byte[]? ReadCollectionFile(string collection, string name)
    {
        string path = Path.Combine(_root, collection, Path.GetFileName(name));
        return File.Exists(path) ? File.ReadAllBytes(path) : null;
    }

    public void WriteCollectionFile(string collection, string name, byte[] data)
    {
        string final = Path.Combine(_root, collection, Path.GetFileName(name));
        string temp = final + TempSuffix;
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(data);
            file.Flush(flushToDisk: true);
        }
        // Rename after fsync: readers see the old file or the whole new one, never a torn one.
        File.Move(temp, final, overwrite: true);
        FsyncDirectory(Path.GetDirectoryName(final)!);
    }

    public IShardStore OpenShard(string collection, int shard) =>
        new FasterShardStore(Path.Combine(_root, collection, $"shard-{shard}"), _durability, _loggerFactory.CreateLogger<FasterShardStore>());

    public IPendingFile CreateSnapshot(string collection, string snapshot)
    {
        string folder = Path.Combine(_snapshots, collection);
        Directory.CreateDirectory(folder);
        string final = Path.Combine(folder, ValidateSnapshotName(snapshot) + SnapshotExtension);
        if (File.Exists(final))
        {
            throw new VectorStoreException(ErrorCode.AlreadyExists, $"Snapshot '{snapshot}' of collection '{collection}' already exists.", "snapshot");
        }
        return new PendingFile(final, header: null);
    }

    public IReadOnlyList<SnapshotInfo> ListSnapshots(string collection)
    {
        string folder = Path.Combine(_snapshots, collection);
        if (!Directory.Exists(folder))
        {
            return [];
        }
        return [.. new DirectoryInfo(folder).EnumerateFiles("*" + SnapshotExtension)
            .Select(f => new SnapshotInfo(collection, Path.GetFileNameWithoutExtension(f.Name), f.Length, f.LastWriteTimeUtc))
            .OrderBy(s => s.CreatedAt).ThenBy(s => s.Name, StringComparer.Ordinal)];
    }

    public Stream? OpenSnapshot(string collection, string snapshot)
    {
        string path = Path.Combine(_snapshots, collection, ValidateSnapshotName(snapshot) + SnapshotExtension);
        return File.Exists(path) ? new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16) : null;
    }

    public bool DeleteSnapshot(string collection, string snapshot)
    {
        string path = Path.Combine(_snapshots, collection, ValidateSnapshotName(snapshot) + SnapshotExtension);
        if (!File.Exists(path))
        {
            return false;
        }
        File.Delete(path);
        return true;
    }

    public long DiskUsageBytes()
    {
        // A folder removed while we walk it (a collection deleted) ends the walk: count again, the second walk no
        // longer sees it.
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                return CountBytes();
            }
            catch (DirectoryNotFoundException) when (attempt < 3)
            {
            }
        }
    }

    private long CountBytes()
    {
        long total = 0;
        foreach (var file in new DirectoryInfo(_dataPath).EnumerateFiles("*", SearchOption.AllDirectories))
        {
            try
            {
                total += file.Length;
            }
            catch (FileNotFoundException)
            {
                // The log truncates segments and checkpoints replace files while we count: a file listed a moment ago
                // may be gone, and it no longer uses space.
            }
        }
        return total;
    }

    public void Dispose()
    {
    }

    internal static string ValidateSnapshotName(string snapshot) =>
        snapshot is not null && SnapshotName().IsMatch(snapshot)
            ? snapshot
            : throw VectorStoreException.Invalid("snapshot", "snapshot names are 1-128 characters of letters, digits, '_', '-' and '.', not starting with '.'.");

    [GeneratedRegex("^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$")]
    private static partial Regex SnapshotName();

    private void RemoveLeftovers()
    {
        foreach (var folder in Directory.EnumerateDirectories(_root))
        {
            string name = Path.GetFileName(folder);
            if (name.Contains(PendingSuffix, StringComparison.Ordinal) || name.Contains(DeletedSuffix, StringComparison.Ordinal))
            {
                _logger.LogInformation("Removing leftover folder {Folder} from an interrupted create or delete", folder);
                Directory.Delete(folder, recursive: true);
            }
        }
        foreach (var temp in Directory.EnumerateFiles(_snapshots, "*" + TempSuffix, SearchOption.AllDirectories))
        {
            _logger.LogInformation("Removing unfinished snapshot {File}", temp);
            File.Delete(temp);
        }
    }

    /// <summary>Makes a rename durable: on Linux the directory entry itself must be flushed.</summary>
    internal static void FsyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return;
        }
        int fd = NativeMethods.Open(directory, 0);
        if (fd >= 0)
        {
            _ = NativeMethods.Fsync(fd);
            _ = NativeMethods.Close(fd);
        }
    }

    private static partial class NativeMethods
    {
        [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8)]
        internal static partial int Open(string path, int flags);

        [LibraryImport("libc", EntryPoint = "fsync")]
        internal static partial int Fsync(int fd);

        [LibraryImport("libc", EntryPoint = "close")]
        internal static partial int Close(int fd);
    }
}

/// <summary>
/// A file written under <c>{final}.tmp</c> through a <see cref="ChecksummedWriter"/>; <see cref="Commit"/> closes
/// the frames, fsyncs, renames into place and fsyncs the folder. A stray <c>.tmp</c> is never read at start-up.
/// </summary>
internal sealed class PendingFile : IPendingFile
{
    private readonly string _final;
    private readonly string _temp;
    private readonly FileStream _file;
    private readonly ChecksummedWriter _writer;
    private readonly Action? _beforeRename;
    private bool _done;

    public PendingFile(string final, ReadOnlySpan<byte> header, Action? beforeRename = null)
    {
        _final = final;
        _temp = final + FasterStorageProvider.TempSuffix;
        _beforeRename = beforeRename;
        _file = new FileStream(_temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        _writer = new ChecksummedWriter(_file);
        _writer.Write(header);
    }

    public Stream Stream => _writer;

    public void Commit()
    {
        _writer.Complete();
        _file.Flush(flushToDisk: true);
        _file.Dispose();
        _beforeRename?.Invoke();
        File.Move(_temp, _final, overwrite: true);
        FasterStorageProvider.FsyncDirectory(Path.GetDirectoryName(_final)!);
        _done = true;
    }

    public void Dispose()
    {
        if (_done)
        {
            return;
        }
        _done = true;
        _file.Dispose();
        File.Delete(_temp);
    }
}
