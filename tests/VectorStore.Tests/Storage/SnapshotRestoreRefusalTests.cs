using System.Buffers.Binary;
using VectorStoreDb.Engine;
using VectorStoreDb.Engine.Storage;
using VectorStoreDb.Engine.Storage.Format;
using static VectorStoreDb.Tests.StorageTestSupport;

namespace VectorStoreDb.Tests.Storage;

/// <summary>
/// A snapshot is checked whole before a restore creates anything: every kind of damage is refused as an invalid
/// argument naming what is wrong, and afterwards the target collection does not exist and the data folder holds
/// exactly the files it held before.
/// </summary>
public sealed class SnapshotRestoreRefusalTests
{
    private const string Source = "src";
    private const string Target = "restored";

    /// <summary>A real snapshot of a two-shard collection, its content without the checksummed framing, and the last shard's section.</summary>
    private static async Task<(byte[] File, byte[] Content, byte[] LastShard)> RealSnapshot(VectorStoreEngine engine)
    {
        await CreateRaw(engine, Source, shards: 2, index: IndexKinds.Hnsw);
        await UpsertRange(engine, Source, 0, 40);
        await engine.CreateSnapshotAsync(Source, "good");
        var file = new MemoryStream();
        using (var stream = engine.OpenSnapshot(Source, "good"))
        {
            await stream.CopyToAsync(file);
        }
        var content = new MemoryStream();
        using (var reader = new ChecksummedReader(new MemoryStream(file.ToArray()), "test"))
        {
            await reader.CopyToAsync(content);
        }
        var lastShard = new MemoryStream();
        await engine.ShardsOf(Source)[^1].WriteSnapshotAsync(lastShard, CancellationToken.None);
        return (file.ToArray(), content.ToArray(), lastShard.ToArray());
    }

    /// <summary>Frames <paramref name="content"/> as the snapshot writer does, so only the content is wrong.</summary>
    private static byte[] Framed(byte[] content)
    {
        var file = new MemoryStream();
        var writer = new ChecksummedWriter(file);
        writer.Write(content);
        writer.Complete();
        return file.ToArray();
    }

    private static string[] FilesUnder(string path) =>
        [.. Directory.EnumerateFileSystemEntries(path, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(path, p)).Order(StringComparer.Ordinal)];

    public static TheoryData<string> Damages() =>
        ["garbage appended", "written twice", "cut at the end", "cut in half", "a flipped byte", "a wrong version", "a wrong magic", "a repeated shard section", "a missing shard section", "no end marker"];

    [Theory]
    [MemberData(nameof(Damages))]
    public async Task A_damaged_snapshot_is_refused_and_leaves_nothing_behind(string damage)
    {
        using var folder = new TestData.TempFolder();
        using var engine = Open(folder.Path);
        var (file, content, lastShard) = await RealSnapshot(engine);
        // Control: the undamaged bytes restore (so each refusal below is about its damage only).
        await engine.RestoreSnapshotAsync(new MemoryStream(file), "control");
        Assert.Equal(40, engine.Count("control"));

        var endMarker = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(endMarker, SnapshotFormat.EndMarker);
        var (bytes, expected) = damage switch
        {
            "garbage appended" => ([.. file, .. "garbage"u8], "after the end of the file"),
            "written twice" => ([.. file, .. file], "after the end of the file"),
            "cut at the end" => (file[..^3], "cut short"),
            "cut in half" => (file[..(file.Length / 2)], "cut short"),
            "a flipped byte" => (Flip(file, file.Length / 3), "checksum"),
            "a wrong version" => (Framed(WithInt(content, 4, 99)), "version 99"),
            "a wrong magic" => (Framed(WithInt(content, 0, 12345)), "not a snapshot"),
            "a repeated shard section" => (Framed([.. content[..^4], .. lastShard, .. endMarker]), "end marker is missing"),
            "a missing shard section" => (Framed([.. content[..^(4 + lastShard.Length)], .. endMarker]), "shard 1 of 2"),
            "no end marker" => (Framed(content[..^4]), "without the end marker"),
            _ => throw new ArgumentOutOfRangeException(nameof(damage)),
        };
        var before = FilesUnder(folder.Path);

        var error = await Assert.ThrowsAsync<VectorStoreException>(() => engine.RestoreSnapshotAsync(new MemoryStream(bytes), Target));

        Assert.Equal(ErrorCode.InvalidArgument, error.Code);
        Assert.Equal("snapshot", error.Field);
        Assert.Contains(expected, error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(engine.ListCollections(), c => c.Settings.Name == Target);
        Assert.Equal(before, FilesUnder(folder.Path));
        // The engine goes on serving, and the name is free for a good restore.
        await engine.RestoreSnapshotAsync(new MemoryStream(file), Target);
        Assert.Equal(40, engine.Count(Target));
    }

    private static byte[] Flip(byte[] bytes, int offset)
    {
        var copy = (byte[])bytes.Clone();
        copy[offset] ^= 0x5A;
        return copy;
    }

    private static byte[] WithInt(byte[] bytes, int offset, int value)
    {
        var copy = (byte[])bytes.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(copy.AsSpan(offset), value);
        return copy;
    }
}
