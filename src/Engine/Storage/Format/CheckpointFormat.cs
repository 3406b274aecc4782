using System.Collections.Concurrent;
using System.Text;
using VectorStoreDb.Index;

namespace VectorStoreDb.Engine.Storage.Format;

/// <summary>
/// The byte layout of a shard's state, as checkpoints hold it after their header and snapshots hold it once per shard
/// (docs/contributors/on-disk-format.md draws it). Sections in order: header, documents, chunks, vector index,
/// projected index, each closed by <see cref="SectionMarker"/> so a reader that drifted stops at once. The text
/// index is not stored: it is rebuilt from the documents' texts.
/// </summary>
internal static class CheckpointFormat
{
    public const int StateMagic = 0x48535356; // "VSSH"
    // Version 2 adds the chunk and projected-index sections; version 1 states (neither) still load.
    public const int StateVersion = 2;
    public const int SectionMarker = 0x5E5E5E5E;

    /// <summary>True when <paramref name="label"/> is the document's own label (chunk 0), not one of its further chunks.</summary>
    public static bool IsPrimaryLabel(StoredDocument document, int label) => document.Chunks is not { } chunks || chunks[0].Label == label;

    public static void Write(Stream destination, ShardImage image)
    {
        using var writer = new BinaryWriter(destination, Encoding.UTF8, leaveOpen: true);
        writer.Write(StateMagic);
        writer.Write(StateVersion);
        writer.Write(image.NextLabel);
        writer.Write(image.Count);
        var chunked = WriteDocuments(writer, image);
        writer.Write(SectionMarker);
        WriteChunks(writer, chunked);
        writer.Write(SectionMarker);
        writer.Write(image.IndexKind);
        writer.Flush();
        image.Index.WriteTo(destination);
        writer.Write(SectionMarker);
        WriteProjected(writer, destination, image.Projected);
        writer.Write(SectionMarker);
        writer.Flush();
    }

    /// <summary>Label, id, text, metadata JSON per document (in label order); returns the chunked ones for the next section.</summary>
    private static List<StoredDocument> WriteDocuments(BinaryWriter writer, ShardImage image)
    {
        var documents = image.Documents;
        int written = 0;
        var chunked = new List<StoredDocument>();
        for (int label = 0; label < image.NextLabel && label < documents.Length; label++)
        {
            if (documents[label] is not { } document || !IsPrimaryLabel(document, label))
            {
                continue;
            }
            if (document.Chunks is not null)
            {
                chunked.Add(document);
            }
            writer.Write(label);
            writer.Write(document.Id);
            writer.Write(document.Text is not null);
            if (document.Text is not null)
            {
                writer.Write(document.Text);
            }
            // Most documents have no metadata: length 0 saves a JSON round trip per document on load.
            var json = document.Metadata.Count == 0 ? [] : Metadata.ToUtf8Json(document.Metadata);
            writer.Write(json.Length);
            writer.Write(json);
            written++;
        }
        if (written != image.Count)
        {
            throw new InvalidOperationException($"Shard state copy holds {written} documents but counted {image.Count}.");
        }
        return chunked;
    }

    /// <summary>For each chunked document: its label, chunk count, then each chunk's label and range.</summary>
    private static void WriteChunks(BinaryWriter writer, List<StoredDocument> chunked)
    {
        writer.Write(chunked.Count);
        foreach (var document in chunked)
        {
            var chunks = document.Chunks!;
            writer.Write(chunks[0].Label);
            writer.Write(chunks.Length);
            foreach (var chunk in chunks)
            {
                writer.Write(chunk.Label);
                writer.Write(chunk.Start);
                writer.Write(chunk.End);
            }
        }
    }

    private static void WriteProjected(BinaryWriter writer, Stream destination, SavedProjectedIndex? saved)
    {
        writer.Write(saved is not null);
        if (saved is not null)
        {
            writer.Write(saved.Fingerprint);
            writer.Write(saved.Kind);
            writer.Flush();
            saved.Data.WriteTo(destination);
        }
    }

    /// <summary>
    /// Reads one shard state and checks it whole (every document and chunk has its vector); throws
    /// <see cref="InvalidDataException"/> or <see cref="EndOfStreamException"/> naming what is wrong.
    /// </summary>
    public static ShardCheckpoint Read(Stream source, CollectionSettings settings)
    {
        using var reader = new BinaryReader(source, Encoding.UTF8, leaveOpen: true);
        int version = reader.ReadInt32() == StateMagic ? reader.ReadInt32() : -1;
        if (version is not (1 or StateVersion))
        {
            throw new InvalidDataException("Not a shard state of a supported version.");
        }
        int nextLabel = reader.ReadInt32();
        int count = reader.ReadInt32();
        if (nextLabel < 0 || count < 0 || count > nextLabel)
        {
            throw new InvalidDataException($"Bad shard state header ({count} documents, {nextLabel} labels).");
        }
        var documents = new StoredDocument?[Math.Max(1024, nextLabel)];
        // Sized up front: growing a concurrent dictionary to millions of entries costs more than reading them.
        var labels = new ConcurrentDictionary<string, int>(Environment.ProcessorCount, Math.Max(31, count), StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
        {
            int label = reader.ReadInt32();
            string id = reader.ReadString();
            string? text = reader.ReadBoolean() ? reader.ReadString() : null;
            int jsonLength = reader.ReadInt32();
            if ((uint)label >= (uint)nextLabel || jsonLength < 0 || documents[label] is not null || !labels.TryAdd(id, label))
            {
                throw new InvalidDataException($"Bad document entry {i} (label {label}, id '{id}').");
            }
            documents[label] = new StoredDocument(id, text, jsonLength == 0 ? Metadata.Empty : Metadata.FromUtf8Json(reader.ReadBytes(jsonLength)));
        }
        ExpectMarker(reader, "document");
        int extraChunkLabels = 0;
        if (version >= 2)
        {
            extraChunkLabels = ReadChunks(reader, documents, nextLabel);
            ExpectMarker(reader, "chunk");
        }
        string kind = reader.ReadString();
        var checkpoint = new ShardCheckpoint
        {
            Documents = documents,
            Labels = labels,
            NextLabel = nextLabel,
            ExtraChunkLabels = extraChunkLabels,
            Index = IndexFactory.Load(kind, source, settings),
        };
        try
        {
            ExpectMarker(reader, "index");
            if (version >= 2)
            {
                checkpoint.Projected = ReadProjected(reader, source);
                ExpectMarker(reader, "projected index");
            }
            VerifyVectors(checkpoint);
            return checkpoint;
        }
        catch
        {
            checkpoint.Dispose();
            throw;
        }
    }

    private static void ExpectMarker(BinaryReader reader, string section)
    {
        if (reader.ReadInt32() != SectionMarker)
        {
            throw new InvalidDataException($"The {section} section does not end where expected.");
        }
    }

    /// <summary>Reads <see cref="WriteChunks"/>'s section into the document table; returns the extra chunk labels it placed.</summary>
    private static int ReadChunks(BinaryReader reader, StoredDocument?[] documents, int nextLabel)
    {
        int count = reader.ReadInt32();
        if (count < 0 || count > nextLabel)
        {
            throw new InvalidDataException($"Bad chunked-document count {count}.");
        }
        int extra = 0;
        for (int d = 0; d < count; d++)
        {
            int label = reader.ReadInt32();
            int length = reader.ReadInt32();
            if ((uint)label >= (uint)nextLabel || documents[label] is not { Chunks: null } document || length < 2 || length > nextLabel)
            {
                throw new InvalidDataException($"Bad chunk entry {d} (label {label}, {length} chunks).");
            }
            var chunks = new StoredChunk[length];
            for (int i = 0; i < length; i++)
            {
                var chunk = new StoredChunk(reader.ReadInt32(), reader.ReadInt32(), reader.ReadInt32());
                bool validLabel = i == 0 ? chunk.Label == label : (uint)chunk.Label < (uint)nextLabel && documents[chunk.Label] is null;
                if (!validLabel || chunk.Start < 0 || chunk.End < chunk.Start || chunk.End > (document.Text?.Length ?? 0))
                {
                    throw new InvalidDataException($"Bad chunk {i} of document '{document.Id}' (label {chunk.Label}, [{chunk.Start}, {chunk.End})).");
                }
                chunks[i] = chunk;
            }
            var withChunks = document with { Chunks = chunks };
            foreach (var chunk in chunks)
            {
                documents[chunk.Label] = withChunks;
            }
            extra += length - 1;
        }
        return extra;
    }

    private static (ulong, IVectorIndex)? ReadProjected(BinaryReader reader, Stream source)
    {
        if (!reader.ReadBoolean())
        {
            return null;
        }
        ulong fingerprint = reader.ReadUInt64();
        string kind = reader.ReadString();
        return (fingerprint, IndexFactory.Load(kind, source));
    }

    private static void VerifyVectors(ShardCheckpoint checkpoint)
    {
        var index = checkpoint.Index!;
        foreach (var (id, label) in checkpoint.Labels)
        {
            if (!index.Contains(label))
            {
                throw new InvalidDataException($"Document '{id}' (label {label}) has no vector in the index.");
            }
            foreach (var chunk in checkpoint.Documents[label]!.Chunks ?? [])
            {
                if (!index.Contains(chunk.Label))
                {
                    throw new InvalidDataException($"Chunk at label {chunk.Label} of document '{id}' has no vector in the index.");
                }
            }
        }
    }
}
