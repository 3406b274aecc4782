using System.Collections.Immutable;
using System.Text.Json;

namespace VectorStoreDb.Engine;

/// <summary>Helpers for whole metadata objects (string keys to <see cref="MetadataValue"/>).</summary>
public static class Metadata
{
    public static readonly IReadOnlyDictionary<string, MetadataValue> Empty = ImmutableDictionary<string, MetadataValue>.Empty;

    /// <summary>Parses a JSON object; anything else (or a bad value) is refused naming <paramref name="field"/>.</summary>
    public static IReadOnlyDictionary<string, MetadataValue> FromJson(JsonElement element, string field)
    {
        if (element.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            return Empty;
        }
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw VectorStoreException.Invalid(field, "metadata must be a JSON object.");
        }
        var result = new Dictionary<string, MetadataValue>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            string name = ReadKey(property, field);
            CheckKey(name, field);
            result[name] = MetadataValue.FromJson(property.Value, $"{field}.{name}");
        }
        return result;
    }

    /// <summary>Converts a dictionary of plain CLR values (what SDK users pass).</summary>
    public static IReadOnlyDictionary<string, MetadataValue> FromObjects(IEnumerable<KeyValuePair<string, object?>>? values, string field)
    {
        if (values is null)
        {
            return Empty;
        }
        var result = new Dictionary<string, MetadataValue>(StringComparer.Ordinal);
        foreach (var (key, value) in values)
        {
            CheckKey(key, field);
            result[key] = MetadataValue.FromObject(value, $"{field}.{key}");
        }
        return result;
    }

    public static Dictionary<string, object?> ToObjects(IReadOnlyDictionary<string, MetadataValue> metadata) =>
        metadata.ToDictionary(p => p.Key, p => (object?)p.Value.ToObject(), StringComparer.Ordinal);

    public static void WriteTo(IReadOnlyDictionary<string, MetadataValue> metadata, Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        foreach (var (key, value) in metadata)
        {
            writer.WritePropertyName(key);
            value.WriteTo(writer);
        }
        writer.WriteEndObject();
    }

    public static byte[] ToUtf8Json(IReadOnlyDictionary<string, MetadataValue> metadata)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteTo(metadata, writer);
        }
        return buffer.ToArray();
    }

    public static IReadOnlyDictionary<string, MetadataValue> FromUtf8Json(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        using var document = JsonDocument.ParseValue(ref reader);
        return FromJson(document.RootElement, "metadata");
    }

    /// <summary>A key escaping a lone surrogate makes <see cref="JsonProperty.Name"/> throw: the client's input at fault.</summary>
    private static string ReadKey(JsonProperty property, string field)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException)
        {
            throw VectorStoreException.Invalid(field, "a metadata key contains invalid UTF-16 (a lone surrogate).");
        }
    }

    /// <summary>Refuses keys and string values holding a lone surrogate (they cannot be stored as UTF-8 JSON), naming the key.</summary>
    internal static void RequireValidUtf16(IReadOnlyDictionary<string, MetadataValue> metadata, string field)
    {
        foreach (var (key, value) in metadata)
        {
            if (Validation.Utf16Text.HasLoneSurrogate(key))
            {
                throw VectorStoreException.Invalid(field, "a metadata key contains invalid UTF-16 (a lone surrogate).");
            }
            if (value.HasInvalidUtf16())
            {
                throw VectorStoreException.Invalid($"{field}.{key}", "contains invalid UTF-16 (a lone surrogate).");
            }
        }
    }

    private static void CheckKey(string key, string field)
    {
        if (key.Length == 0 || key.Length > 256 || key.StartsWith('$'))
        {
            throw VectorStoreException.Invalid($"{field}.{key}", "metadata keys must be 1-256 characters and must not start with '$'.");
        }
    }
}
