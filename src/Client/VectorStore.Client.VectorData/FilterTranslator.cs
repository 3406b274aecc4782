using System.Collections;
using System.Linq.Expressions;
using System.Text.Json.Nodes;
using Microsoft.Extensions.VectorData.ProviderServices;
using Microsoft.Extensions.VectorData.ProviderServices.Filter;

namespace VectorStoreDb.Client.VectorData;

/// <summary>
/// Translates a LINQ filter (<c>r =&gt; r.Category == "x" &amp;&amp; r.Year &gt;= 2020</c>) into the store's
/// Mongo-style JSON filter (<c>{"$and":[{"category":"x"},{"year":{"$gte":2020}}]}</c>). Anything without an
/// exact equivalent is refused with a <see cref="NotSupportedException"/> naming the expression, rather than
/// being approximated.
/// </summary>
internal sealed class FilterTranslator : FilterTranslatorBase
{
    private readonly string? _textOnlyProperty;

    private FilterTranslator(string? textOnlyProperty) => _textOnlyProperty = textOnlyProperty;

    /// <summary>The JSON filter, or null when the filter is the constant <c>true</c>.</summary>
    /// <param name="filter">The LINQ predicate over the record.</param>
    /// <param name="model">The collection model that binds properties to storage names.</param>
    /// <param name="textOnlyProperty">The model name of a property kept only as document text (not filterable).</param>
    public static string? Translate(LambdaExpression filter, CollectionModel model, string? textOnlyProperty = null)
    {
        var translator = new FilterTranslator(textOnlyProperty);
        var body = translator.PreprocessFilter(filter, model, new FilterPreprocessingOptions { SupportsParameterization = false });
        if (body is ConstantExpression { Value: true })
        {
            return null;
        }
        return translator.Translate(body).ToJsonString();
    }

    private JsonObject Translate(Expression node) => node switch
    {
        BinaryExpression { NodeType: ExpressionType.AndAlso } and => Combine("$and", and),
        BinaryExpression { NodeType: ExpressionType.OrElse } or => Combine("$or", or),
        UnaryExpression { NodeType: ExpressionType.Not } not => TranslateNot(not),
        BinaryExpression comparison when IsComparison(comparison.NodeType) => TranslateComparison(comparison),
        MethodCallExpression call => TranslateCall(call),
        // A bool property on its own: r => r.IsActive.
        _ when node.Type == typeof(bool) && TryBindFilterable(node, out var property) => Field(property, JsonValue.Create(true)),
        _ => throw Unsupported(node),
    };

    private static bool IsComparison(ExpressionType type) => type is ExpressionType.Equal or ExpressionType.NotEqual
        or ExpressionType.LessThan or ExpressionType.LessThanOrEqual or ExpressionType.GreaterThan or ExpressionType.GreaterThanOrEqual;

    private JsonObject Combine(string op, BinaryExpression node)
    {
        // Flatten a && b && c into one $and of three rather than nested pairs.
        var parts = new JsonArray();
        void Add(Expression e)
        {
            if (e.NodeType == node.NodeType && e is BinaryExpression inner)
            {
                Add(inner.Left);
                Add(inner.Right);
            }
            else
            {
                parts.Add(Translate(e));
            }
        }
        Add(node);
        return new JsonObject { [op] = parts };
    }

    private JsonObject TranslateNot(UnaryExpression node)
    {
        if (node.Operand.Type == typeof(bool) && TryBindFilterable(node.Operand, out var property))
        {
            return Field(property, JsonValue.Create(false));
        }
        return new JsonObject { ["$not"] = Translate(node.Operand) };
    }

    private JsonObject TranslateComparison(BinaryExpression node)
    {
        var type = node.NodeType;
        Expression propertySide = node.Left, valueSide = node.Right;
        if (!TryBindFilterable(propertySide, out var property))
        {
            // The constant may be on the left: 2020 <= r.Year is r.Year >= 2020.
            (propertySide, valueSide) = (valueSide, propertySide);
            if (!TryBindFilterable(propertySide, out property))
            {
                throw Unsupported(node);
            }
            type = type switch
            {
                ExpressionType.LessThan => ExpressionType.GreaterThan,
                ExpressionType.LessThanOrEqual => ExpressionType.GreaterThanOrEqual,
                ExpressionType.GreaterThan => ExpressionType.LessThan,
                ExpressionType.GreaterThanOrEqual => ExpressionType.LessThanOrEqual,
                _ => type,
            };
        }
        if (!TryEvaluate(valueSide, out var raw))
        {
            throw Unsupported(node);
        }
        if (raw is null)
        {
            // The store keeps no nulls (a null property is left out), and a missing key matches only $ne/$nin.
            throw new NotSupportedException($"Comparing a property with null is not supported by VectorStore filters: {node}.");
        }
        var value = Scalar(raw, node);
        return type switch
        {
            ExpressionType.Equal => Field(property, value),
            ExpressionType.NotEqual => Field(property, new JsonObject { ["$ne"] = value }),
            ExpressionType.LessThan => Field(property, new JsonObject { ["$lt"] = value }),
            ExpressionType.LessThanOrEqual => Field(property, new JsonObject { ["$lte"] = value }),
            ExpressionType.GreaterThan => Field(property, new JsonObject { ["$gt"] = value }),
            _ => Field(property, new JsonObject { ["$gte"] = value }),
        };
    }

    private JsonObject TranslateCall(MethodCallExpression call)
    {
        if (TryMatchContains(call, out var source, out var item))
        {
            // r.Tags.Contains("x"): a list property holding the value (an array field matches when any element does).
            if (TryBindFilterable(source, out var listProperty) && TryEvaluate(item, out var element))
            {
                return Field(listProperty, Scalar(element, call));
            }
            // new[] { "a", "b" }.Contains(r.Category): the property is one of the values.
            if (TryBindFilterable(item, out var property) && TryEvaluate(source, out var values) && values is IEnumerable list and not string)
            {
                var array = new JsonArray();
                foreach (var value in list)
                {
                    array.Add(Scalar(value, call));
                }
                return Field(property, new JsonObject { ["$in"] = array });
            }
        }
        throw Unsupported(call);
    }

    private bool TryBindFilterable(Expression expression, out PropertyModel property)
    {
        // Nullable comparisons wrap the property in a conversion: r.Year (int?) >= 2020.
        while (expression is UnaryExpression { NodeType: ExpressionType.Convert or ExpressionType.ConvertChecked } convert)
        {
            expression = convert.Operand;
        }
        if (!TryBindProperty(expression, out property!))
        {
            return false;
        }
        if (property is not DataPropertyModel)
        {
            throw new NotSupportedException(property is KeyPropertyModel
                ? $"Filtering on the key property '{property.ModelName}' is not supported; get records by key instead: {expression}."
                : $"Filtering on the vector property '{property.ModelName}' is not supported: {expression}.");
        }
        if (property.ModelName == _textOnlyProperty)
        {
            throw new NotSupportedException(
                $"'{property.ModelName}' is stored as the document text, not as metadata, so it cannot be filtered; mark it [VectorStoreData(IsIndexed = true)] to keep a filterable copy: {expression}.");
        }
        return true;
    }

    /// <summary>Evaluates a sub-expression that does not depend on the record (constants, captured variables).</summary>
    private bool TryEvaluate(Expression expression, out object? value)
    {
        if (expression is ConstantExpression constant)
        {
            value = constant.Value;
            return true;
        }
        if (expression is QueryParameterExpression parameter)
        {
            value = parameter.Value;
            return true;
        }
        if (new ParameterFinder(RecordParameter).Contains(expression))
        {
            value = null;
            return false;
        }
        value = Expression.Lambda(Expression.Convert(expression, typeof(object))).Compile().DynamicInvoke();
        return true;
    }

    private static JsonNode Scalar(object? value, Expression context)
    {
        var stored = value is not IEnumerable || value is string ? StorageValues.ToStorage(value) : null;
        return stored switch
        {
            string s => JsonValue.Create(s),
            double d => JsonValue.Create(d),
            bool b => JsonValue.Create(b),
            _ => throw new NotSupportedException($"The value '{value}' ({value?.GetType().Name ?? "null"}) cannot be used in a VectorStore filter: {context}."),
        };
    }

    private static JsonObject Field(PropertyModel property, JsonNode value) => new() { [property.StorageName] = value };

    private static NotSupportedException Unsupported(Expression node) =>
        new($"The filter expression '{node}' cannot be translated to a VectorStore filter. Supported: ==, !=, <, <=, >, >=, &&, ||, !, " +
            "a bool property alone, list.Contains(value) on a list property and constantList.Contains(r.Property).");

    private sealed class ParameterFinder(ParameterExpression? parameter) : ExpressionVisitor
    {
        private bool _found;

        public bool Contains(Expression expression)
        {
            Visit(expression);
            return _found;
        }

        protected override Expression VisitParameter(ParameterExpression node)
        {
            _found |= node == parameter;
            return node;
        }
    }
}
