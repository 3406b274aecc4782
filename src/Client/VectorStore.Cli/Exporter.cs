using System.Text.Json;
using VectorStoreDb.Client;

namespace VectorStoreDb.Cli;

/// <summary>Writes a collection as JSON lines in the format <c>import</c> reads, so export → import round-trips.</summary>
internal static class Exporter
{
    /// <summary>Documents per page while exporting: large enough to amortise the round trip, small enough to keep memory flat.</summary>
    public const int PageSize = 256;

    public static async Task<long> ExportAsync(IVectorStoreClient client, string collection, FileInfo file, bool includeVectors, CancellationToken cancellationToken)
    {
        await client.GetCollectionAsync(collection, cancellationToken); // NotFound with the usual message, before a file is created
        string temporary = file.FullName + ".tmp";
        long written = 0;
        await using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        await using (var writer = new Utf8JsonWriter(stream))
        {
            // The cursor scan holds one page at a time, remote or embedded, so memory stays flat however big the collection.
            await foreach (var document in client.ScanDocumentsAsync(collection, includeVectors, PageSize, cancellationToken))
            {
                writer.WriteStartObject();
                writer.WriteString("id", document.Id);
                if (document.Text is not null)
                {
                    writer.WriteString("text", document.Text);
                }
                if (document.Metadata.Count > 0)
                {
                    writer.WritePropertyName("metadata");
                    JsonSerializer.Serialize(writer, document.Metadata);
                }
                if (document.Vector is { } vector)
                {
                    writer.WriteStartArray("vector");
                    foreach (float v in vector)
                    {
                        writer.WriteNumberValue(v);
                    }
                    writer.WriteEndArray();
                }
                writer.WriteEndObject();
                await writer.FlushAsync(cancellationToken);
                writer.Reset();
                stream.Write("\n"u8);
                written++;
            }
        }
        File.Move(temporary, file.FullName, overwrite: true);
        return written;
    }

}
