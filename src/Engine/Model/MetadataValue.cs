using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;

namespace VectorStoreDb.Engine;

/// <summary>
/// One metadata value: a string, a number (double), a boolean or a flat array of those. Immutable, so a
/// document's metadata can be shared by readers without copies.
/// </summary>
public sealed class MetadataValue : IEquatable<MetadataValue>
{
    private MetadataValue(MetadataKind kind, string? text, double number, bool flag, ImmutableArray<MetadataValue> items)
    {
        Kind = kind;
        String = text;
        Number = number;
        Bool = flag;
        Items = items;
    }

    public MetadataKind Kind { get; }

    public string? String { get; }

    public double Number { get; }

    public bool Bool { get; }

    public ImmutableArray<MetadataValue> Items { get; }

    public static MetadataValue Of(string value) => new(MetadataKind.String, value, 0, false, default);

    /// <summary>True when the value (or an item of it) is a string holding a lone UTF-16 surrogate.</summary>
    internal bool HasInvalidUtf16() => Kind switch
    {
        MetadataKind.String => Validation.Utf16Text.HasLoneSurrogate(String),
        MetadataKind.Array => Items.Any(i => i.HasInvalidUtf16()),
        _ => false,
    };

    public static MetadataValue Of(double value) => new(MetadataKind.Number, null, value, false, default);

    public static MetadataValue Of(bool value) => new(MetadataKind.Bool, null, 0, value, default);

    public static MetadataValue Of(IEnumerable<MetadataValue> items)
    {
        var array = items.ToImmutableArray();
        if (array.Any(i => i.Kind == MetadataKind.Array))
        {
            throw new ArgumentException("Metadata arrays cannot nest.", nameof(items));
        }
        return new(MetadataKind.Array, null, 0, false, array);
    }

    /// <summary>Equality as filters see it: same kind and value; numbers compare numerically.</summary>
    public bool Equals(MetadataValue? other) => other is not null && Kind == other.Kind && Kind switch
    {
        MetadataKind.String => string.Equals(String, other.String, StringComparison.Ordinal),
        MetadataKind.Number => Number.Equals(other.Number),
        MetadataKind.Bool => Bool == other.Bool,
        _ => Items.SequenceEqual(other.Items),
    };

    public override bool Equals(object? obj) => Equals(obj as MetadataValue);

    public override int GetHashCode() => Kind switch
    {
        MetadataKind.String => String!.GetHashCode(StringComparison.Ordinal),
        MetadataKind.Number => Number.GetHashCode(),
        MetadataKind.Bool => Bool.GetHashCode(),
        _ => Items.Length,
    };

    public override string ToString() => Kind switch
    {
        MetadataKind.String => String!,
        MetadataKind.Number => Number.ToString("R", CultureInfo.InvariantCulture),
        MetadataKind.Bool => Bool ? "true" : "false",
        _ => "[" + string.Join(", ", Items) + "]",
    };

    /// <summary>Converts a plain CLR value (string, any number type, bool, or an enumerable of those).</summary>
    public static MetadataValue FromObject(object? value, string field) => value switch
    {
        null => throw VectorStoreException.Invalid(field, "null is not a metadata value; leave the key out instead."),
        string s => Of(s),
        bool b => Of(b),
        byte or sbyte or short or ushort or int or uint or long or ulong or float or double or decimal =>
            Of(CheckFinite(Convert.ToDouble(value, CultureInfo.InvariantCulture), field)),
        MetadataValue v => v,
        JsonElement e => FromJson(e, field),
        System.Collections.IEnumerable items => Of(items.Cast<object?>().Select((item, i) =>
        {
            var v = FromObject(item, $"{field}[{i}]");
            return v.Kind == MetadataKind.Array ? throw VectorStoreException.Invalid($"{field}[{i}]", "arrays cannot nest.") : v;
        })),
        _ => throw VectorStoreException.Invalid(field, $"values of type {value.GetType().Name} are not supported; use strings, numbers, booleans or arrays of those."),
    };

    /// <summary>Converts a JSON value; objects, nulls and nested arrays are refused with a message naming <paramref name="field"/>.</summary>
    public static MetadataValue FromJson(JsonElement element, string field)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return Of(ReadString(element, field));
            case JsonValueKind.Number:
                return Of(CheckFinite(element.GetDouble(), field));
            case JsonValueKind.True:
                return Of(true);
            case JsonValueKind.False:
                return Of(false);
            case JsonValueKind.Array:
                var items = ImmutableArray.CreateBuilder<MetadataValue>();
                int i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (item.ValueKind is JsonValueKind.Array or JsonValueKind.Object)
                    {
                        throw VectorStoreException.Invalid($"{field}[{i}]", "arrays may hold only strings, numbers and booleans.");
                    }
                    items.Add(FromJson(item, $"{field}[{i}]"));
                    i++;
                }
                return new(MetadataKind.Array, null, 0, false, items.ToImmutable());
            case JsonValueKind.Null:
                throw VectorStoreException.Invalid(field, "null is not a metadata value; leave the key out instead.");
            default:
                throw VectorStoreException.Invalid(field, "nested objects are not supported; use strings, numbers, booleans or arrays of those.");
        }
    }

    /// <summary>Converts to a plain CLR value: string, double, bool or object?[].</summary>
    public object ToObject() => Kind switch
    {
        MetadataKind.String => String!,
        MetadataKind.Number => Number,
        MetadataKind.Bool => Bool,
        _ => Items.Select(i => i.ToObject()).ToArray(),
    };

    public void WriteTo(Utf8JsonWriter writer)
    {
        switch (Kind)
        {
            case MetadataKind.String: writer.WriteStringValue(String); break;
            case MetadataKind.Number: writer.WriteNumberValue(Number); break;
            case MetadataKind.Bool: writer.WriteBooleanValue(Bool); break;
            default:
                writer.WriteStartArray();
                foreach (var item in Items)
                {
                    item.WriteTo(writer);
                }
                writer.WriteEndArray();
                break;
        }
    }

    /// <summary>
    /// Reads a JSON string; an escaped lone surrogate (<c>"\ud800"</c>) makes <see cref="JsonElement.GetString"/>
    /// throw, and that is the client's input at fault, not a server error.
    /// </summary>
    internal static string ReadString(JsonElement element, string field)
    {
        try
        {
            return element.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw VectorStoreException.Invalid(field, "contains invalid UTF-16 (a lone surrogate).");
        }
    }

    private static double CheckFinite(double value, string field) =>
        double.IsFinite(value) ? value : throw VectorStoreException.Invalid(field, "numbers must be finite.");
}
