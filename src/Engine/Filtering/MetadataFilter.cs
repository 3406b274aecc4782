using System.Text.Json;

namespace VectorStoreDb.Engine.Filtering;

/// <summary>
/// A compiled metadata filter in the Mongo-style JSON that Chroma and Pinecone users know:
/// <c>{"kind":"pet"}</c>, <c>{"year":{"$gte":2021}}</c>, <c>$eq $ne $gt $gte $lt $lte $in $nin</c>,
/// <c>$and</c>, <c>$or</c>, <c>$not</c>. On an array field, <c>$eq</c>/<c>$in</c> match when any element
/// matches (and <c>$ne</c>/<c>$nin</c> when none does); a missing field matches only the negative operators.
/// </summary>
public abstract class MetadataFilter
{
    public abstract bool Matches(IReadOnlyDictionary<string, MetadataValue> metadata);

    /// <summary>
    /// The JSON this filter was compiled from. A compiled filter cannot cross a process boundary; its JSON can (a
    /// cluster sends it to the shards, which compile it with this same parser).
    /// </summary>
    public string Json { get; private set; } = "{}";

    /// <summary>Compiles a filter; a malformed one is refused with a message naming the offending path.</summary>
    public static MetadataFilter Parse(JsonElement filter, string field = "filter")
    {
        var compiled = Compile(filter, field);
        compiled.Json = filter.GetRawText();
        return compiled;
    }

    private static MetadataFilter Compile(JsonElement filter, string field)
    {
        if (filter.ValueKind != JsonValueKind.Object)
        {
            throw VectorStoreException.Invalid(field, "a filter must be a JSON object such as {\"kind\":\"pet\"}.");
        }
        var parts = new List<MetadataFilter>();
        foreach (var property in filter.EnumerateObject())
        {
            string path = $"{field}.{property.Name}";
            switch (property.Name)
            {
                case "$and":
                    parts.Add(new AllOf(ParseList(property.Value, path)));
                    break;
                case "$or":
                    parts.Add(new AnyOf(ParseList(property.Value, path)));
                    break;
                case "$not":
                    parts.Add(new Not(Compile(property.Value, path)));
                    break;
                default:
                    if (property.Name.StartsWith('$'))
                    {
                        throw VectorStoreException.Invalid(path, $"unknown operator '{property.Name}' at the top level; use $and, $or, $not or a field name.");
                    }
                    parts.Add(ParseField(property.Name, property.Value, path));
                    break;
            }
        }
        return parts.Count == 1 ? parts[0] : new AllOf(parts);
    }

    private static List<MetadataFilter> ParseList(JsonElement value, string path)
    {
        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() == 0)
        {
            throw VectorStoreException.Invalid(path, "expects a non-empty array of filters.");
        }
        return [.. value.EnumerateArray().Select((item, i) => Compile(item, $"{path}[{i}]"))];
    }

    private static MetadataFilter ParseField(string key, JsonElement value, string path)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            return new Comparison(key, Operator.Eq, Scalar(value, path), null);
        }
        var parts = new List<MetadataFilter>();
        foreach (var op in value.EnumerateObject())
        {
            string opPath = $"{path}.{op.Name}";
            parts.Add(op.Name switch
            {
                "$eq" => new Comparison(key, Operator.Eq, Scalar(op.Value, opPath), null),
                "$ne" => new Comparison(key, Operator.Ne, Scalar(op.Value, opPath), null),
                "$gt" => new Comparison(key, Operator.Gt, Ordered(op.Value, opPath), null),
                "$gte" => new Comparison(key, Operator.Gte, Ordered(op.Value, opPath), null),
                "$lt" => new Comparison(key, Operator.Lt, Ordered(op.Value, opPath), null),
                "$lte" => new Comparison(key, Operator.Lte, Ordered(op.Value, opPath), null),
                "$in" => new Comparison(key, Operator.In, null, List(op.Value, opPath)),
                "$nin" => new Comparison(key, Operator.Nin, null, List(op.Value, opPath)),
                _ => throw VectorStoreException.Invalid(opPath, $"unknown operator '{op.Name}'; use $eq, $ne, $gt, $gte, $lt, $lte, $in or $nin."),
            });
        }
        if (parts.Count == 0)
        {
            throw VectorStoreException.Invalid(path, "an operator object needs at least one operator, e.g. {\"$gte\": 2021}.");
        }
        return parts.Count == 1 ? parts[0] : new AllOf(parts);
    }

    private static MetadataValue Scalar(JsonElement value, string path) => value.ValueKind switch
    {
        JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False => MetadataValue.FromJson(value, path),
        _ => throw VectorStoreException.Invalid(path, "expects a string, number or boolean."),
    };

    private static MetadataValue Ordered(JsonElement value, string path) => value.ValueKind switch
    {
        JsonValueKind.String or JsonValueKind.Number => MetadataValue.FromJson(value, path),
        _ => throw VectorStoreException.Invalid(path, "expects a number or a string."),
    };

    private static HashSet<MetadataValue> List(JsonElement value, string path)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw VectorStoreException.Invalid(path, "expects an array of strings, numbers or booleans.");
        }
        return [.. value.EnumerateArray().Select((item, i) => Scalar(item, $"{path}[{i}]"))];
    }

    private enum Operator { Eq, Ne, Gt, Gte, Lt, Lte, In, Nin }

    private sealed class Comparison(string key, Operator op, MetadataValue? operand, HashSet<MetadataValue>? set) : MetadataFilter
    {
        public override bool Matches(IReadOnlyDictionary<string, MetadataValue> metadata)
        {
            if (!metadata.TryGetValue(key, out var value))
            {
                return op is Operator.Ne or Operator.Nin;
            }
            return op switch
            {
                Operator.Ne => !AnyElement(value, v => v.Equals(operand)),
                Operator.Nin => !AnyElement(value, set!.Contains),
                Operator.In => AnyElement(value, set!.Contains),
                Operator.Eq => AnyElement(value, v => v.Equals(operand)),
                _ => AnyElement(value, v => Compare(v, operand!) is int c && op switch
                {
                    Operator.Gt => c > 0,
                    Operator.Gte => c >= 0,
                    Operator.Lt => c < 0,
                    _ => c <= 0,
                }),
            };
        }

        private static bool AnyElement(MetadataValue value, Func<MetadataValue, bool> predicate)
        {
            if (value.Kind != MetadataKind.Array)
            {
                return predicate(value);
            }
            foreach (var item in value.Items)
            {
                if (predicate(item))
                {
                    return true;
                }
            }
            return false;
        }

        private static int? Compare(MetadataValue value, MetadataValue operand) => (value.Kind, operand.Kind) switch
        {
            (MetadataKind.Number, MetadataKind.Number) => value.Number.CompareTo(operand.Number),
            (MetadataKind.String, MetadataKind.String) => string.CompareOrdinal(value.String, operand.String),
            _ => null, // values of another type never satisfy a range
        };
    }

    private sealed class AllOf(List<MetadataFilter> parts) : MetadataFilter
    {
        public override bool Matches(IReadOnlyDictionary<string, MetadataValue> metadata)
        {
            foreach (var part in parts)
            {
                if (!part.Matches(metadata))
                {
                    return false;
                }
            }
            return true;
        }
    }

    private sealed class AnyOf(List<MetadataFilter> parts) : MetadataFilter
    {
        public override bool Matches(IReadOnlyDictionary<string, MetadataValue> metadata)
        {
            foreach (var part in parts)
            {
                if (part.Matches(metadata))
                {
                    return true;
                }
            }
            return false;
        }
    }

    private sealed class Not(MetadataFilter inner) : MetadataFilter
    {
        public override bool Matches(IReadOnlyDictionary<string, MetadataValue> metadata) => !inner.Matches(metadata);
    }
}
