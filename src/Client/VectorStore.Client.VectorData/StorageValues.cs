using System.Collections;
using System.Globalization;

namespace VectorStoreDb.Client.VectorData;

/// <summary>
/// Converts record property values to the metadata values the store keeps (strings, doubles, booleans and
/// arrays of those) and back. Filters use the same conversion so a compared value matches what was stored.
/// </summary>
internal static class StorageValues
{
    private static readonly HashSet<Type> Scalars =
    [
        typeof(string), typeof(bool), typeof(int), typeof(long), typeof(short), typeof(byte), typeof(double), typeof(float),
        typeof(decimal), typeof(DateTimeOffset), typeof(DateTime), typeof(Guid),
    ];

    /// <summary>The supported data property types, for error messages.</summary>
    public const string SupportedTypes =
        "string, bool, int, long, short, byte, double, float, decimal, DateTimeOffset, DateTime, Guid (and their nullable forms), " +
        "and arrays or lists of those";

    public static bool IsSupportedScalar(Type type) => Scalars.Contains(Nullable.GetUnderlyingType(type) ?? type);

    public static bool IsSupported(Type type) => IsSupportedScalar(type) || (ElementType(type) is { } element && IsSupportedScalar(element));

    /// <summary>The element type of an array or a generic list/enumerable type; null for anything else (including string).</summary>
    public static Type? ElementType(Type type)
    {
        if (type == typeof(string))
        {
            return null;
        }
        if (type.IsArray)
        {
            return type.GetElementType();
        }
        if (type.IsGenericType && type.GetGenericArguments() is [var argument])
        {
            var definition = type.GetGenericTypeDefinition();
            if (definition == typeof(List<>) || definition == typeof(IList<>) || definition == typeof(IReadOnlyList<>)
                || definition == typeof(ICollection<>) || definition == typeof(IReadOnlyCollection<>) || definition == typeof(IEnumerable<>))
            {
                return argument;
            }
        }
        return null;
    }

    /// <summary>A property value as stored; null means "leave the key out" (the store keeps no nulls).</summary>
    public static object? ToStorage(object? value) => value switch
    {
        null => null,
        string or bool or double => value,
        int or long or short or byte or float => Convert.ToDouble(value, CultureInfo.InvariantCulture),
        decimal d => (double)d,
        // UTC with a fixed-width round-trip format, so string order is time order in range filters.
        DateTimeOffset t => t.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ss.fffffffZ", CultureInfo.InvariantCulture),
        DateTime t => ToStorage(new DateTimeOffset(t.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(t, DateTimeKind.Utc) : t)),
        Guid g => g.ToString("D"),
        IEnumerable items => items.Cast<object?>().Select(ToStorage).ToArray(),
        _ => throw new NotSupportedException($"Values of type {value.GetType().Name} cannot be stored; supported: {SupportedTypes}."),
    };

    /// <summary>A stored metadata value (string, double, bool, object?[]) converted to a property's type.</summary>
    public static object? FromStorage(object? stored, Type type)
    {
        if (stored is null)
        {
            return null;
        }
        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (ElementType(target) is { } elementType)
        {
            var items = stored is IEnumerable e and not string ? e.Cast<object?>().ToArray() : [stored];
            var array = Array.CreateInstance(elementType, items.Length);
            for (int i = 0; i < items.Length; i++)
            {
                array.SetValue(FromStorage(items[i], elementType), i);
            }
            if (target.IsArray)
            {
                return array;
            }
            // List<T> satisfies every list/enumerable interface ElementType accepts.
            var list = (IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(elementType), items.Length)!;
            foreach (var item in array)
            {
                list.Add(item);
            }
            return list;
        }
        var invariant = CultureInfo.InvariantCulture;
        return target switch
        {
            _ when target == typeof(string) => Convert.ToString(stored, invariant),
            _ when target == typeof(bool) => Convert.ToBoolean(stored, invariant),
            _ when target == typeof(double) => Convert.ToDouble(stored, invariant),
            _ when target == typeof(float) => Convert.ToSingle(stored, invariant),
            _ when target == typeof(int) => Convert.ToInt32(stored, invariant),
            _ when target == typeof(long) => Convert.ToInt64(stored, invariant),
            _ when target == typeof(short) => Convert.ToInt16(stored, invariant),
            _ when target == typeof(byte) => Convert.ToByte(stored, invariant),
            _ when target == typeof(decimal) => Convert.ToDecimal(stored, invariant),
            _ when target == typeof(DateTimeOffset) => DateTimeOffset.Parse((string)stored, invariant, DateTimeStyles.RoundtripKind),
            _ when target == typeof(DateTime) => DateTime.Parse((string)stored, invariant, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal),
            _ when target == typeof(Guid) => Guid.Parse((string)stored),
            _ => stored,
        };
    }
}
