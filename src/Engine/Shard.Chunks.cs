namespace VectorStoreDb.Engine;

// Long texts split into chunks: every chunk is its own label in the index (so graph search, filters and
// projection need no change), all of a document's labels point at the one StoredDocument, and the id maps to
// chunk 0's label only, so counts, listings, gets and the text index stay per document.
internal sealed partial class Shard
{
    private int _chunkLabels;

    /// <summary>Index labels held by chunks beyond each document's first; 0 when no document is chunked.</summary>
    public int ExtraChunkLabels => Volatile.Read(ref _chunkLabels);

    /// <summary>True when <paramref name="label"/> is the document's own label (chunk 0), not one of its further chunks.</summary>
    private static bool IsPrimaryLabel(StoredDocument document, int label) => document.Chunks is not { } chunks || chunks[0].Label == label;

    /// <summary>The chunk number and character range <paramref name="label"/> stands for in <paramref name="document"/>.</summary>
    public static StoredChunk ChunkAt(StoredDocument document, int label, out int number)
    {
        if (document.Chunks is { } chunks)
        {
            for (int i = 0; i < chunks.Length; i++)
            {
                if (chunks[i].Label == label)
                {
                    number = i;
                    return chunks[i];
                }
            }
        }
        number = 0;
        return new StoredChunk(label, 0, document.Text?.Length ?? 0);
    }

    /// <summary>Labels for a new version's chunks: chunk 0 keeps the document's label, the others come from the free list.</summary>
    private StoredChunk[]? AllocateChunks(int label, IReadOnlyList<Storage.ChunkRecord>? chunks)
    {
        if (chunks is not { Count: > 1 })
        {
            return null;
        }
        var stored = new StoredChunk[chunks.Count];
        stored[0] = new StoredChunk(label, chunks[0].Start, chunks[0].End);
        for (int i = 1; i < stored.Length; i++)
        {
            stored[i] = new StoredChunk(AllocateLabel(), chunks[i].Start, chunks[i].End);
        }
        _chunkLabels += stored.Length - 1;
        return stored;
    }

    /// <summary>Frees the labels of every chunk but the first (the document's own label stays with its id).</summary>
    private void ReleaseExtraChunks(StoredDocument? document)
    {
        if (document?.Chunks is not { } chunks)
        {
            return;
        }
        for (int i = 1; i < chunks.Length; i++)
        {
            _index.Remove(chunks[i].Label);
            _projected?.Index.Remove(chunks[i].Label);
            _projectionRebuildTouched?.Add(chunks[i].Label);
            _documents[chunks[i].Label] = null;
            _freeLabels.Push(chunks[i].Label);
        }
        _chunkLabels -= chunks.Length - 1;
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
            var chunked = document with { Chunks = chunks };
            foreach (var chunk in chunks)
            {
                documents[chunk.Label] = chunked;
            }
            extra += length - 1;
        }
        return extra;
    }
}
