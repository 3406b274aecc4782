using System.Text.Json;
using VectorStore.Client;
using VectorStore.Client.Embedded;

namespace VectorStore.Cli;

/// <summary>Writes a collection as JSON lines in the format <c>import</c> reads, so export → import round-trips.</summary>
internal static class Exporter
{
    public static async Task<long> ExportAsync(IVectorStoreClient client, string collection, FileInfo file, bool includeVectors, CancellationToken cancellationToken)
    {
        // The SDK has no scroll call yet, so listing ids needs the engine: export works on a data folder (--data).
        if (client is not EmbeddedVectorStore embedded)
        {
            throw new VectorStoreClientException(VectorStoreErrorCode.FailedPrecondition,
                "export reads every document, which the server API cannot list yet: run it with --data <folder> on the server's data folder (server stopped) or on a copy.");
        }
        await client.GetCollectionAsync(collection, cancellationToken); // NotFound with the usual message
        string temporary = file.FullName + ".tmp";
        long written = 0;
        await using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        await using (var writer = new Utf8JsonWriter(stream))
        {
            foreach (var stored in embedded.Engine.ScanDocuments(collection, includeVectors: false))
            {
                cancellationToken.ThrowIfCancellationRequested();
                VectorDocument document;
                try
                {
                    document = await client.GetDocumentAsync(collection, stored.Id, includeVectors, cancellationToken);
                }
                catch (VectorStoreClientException e) when (e.Code == VectorStoreErrorCode.NotFound)
                {
                    continue; // deleted while exporting
                }
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
