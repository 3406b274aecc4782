using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace VectorStoreDb.Server.Rest.OpenApiDescription;

/// <summary>
/// Makes the generated schemas say what the server really accepts and sends. The API's JSON options read "NaN" and
/// "Infinity" (so validation can refuse them by name), which the generator describes as <c>anyOf</c> number or a
/// NaN enum under <c>type: object</c>: every JSON Schema validator then rejects a plain number. Clients send and
/// get plain numbers, so those schemas are numbers. And since nulls are left out of responses (WhenWritingNull), a
/// property that can be null is not <c>required</c>: required means always present.
/// </summary>
internal sealed class TruthfulSchemaTransformer : IOpenApiSchemaTransformer
{
    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (IsNumberOrNamedLiteral(schema))
        {
            bool nullable = Nullable.GetUnderlyingType(context.JsonTypeInfo.Type) is not null;
            schema.AnyOf = null;
            schema.Type = nullable ? JsonSchemaType.Number | JsonSchemaType.Null : JsonSchemaType.Number;
        }
        if (context.JsonTypeInfo.Type == typeof(ProblemDetails))
        {
            // Problem details carry extensions (field, traceId), which the generator cannot see.
            schema.AdditionalPropertiesAllowed = true;
            schema.AdditionalProperties = null;
            schema.Properties ??= new Dictionary<string, IOpenApiSchema>();
            schema.Properties["field"] = new OpenApiSchema
            {
                Type = JsonSchemaType.String,
                Description = "The input at fault, e.g. documents[3].vector (absent when the refusal is not about one input).",
            };
        }
        if (context.JsonTypeInfo.Kind == JsonTypeInfoKind.Object && schema.Required is { Count: > 0 } required)
        {
            foreach (var property in context.JsonTypeInfo.Properties)
            {
                if (property.IsGetNullable || Nullable.GetUnderlyingType(property.PropertyType) is not null)
                {
                    required.Remove(property.Name);
                }
            }
        }
        return Task.CompletedTask;
    }

    private static bool IsNumberOrNamedLiteral(OpenApiSchema schema) =>
        schema.AnyOf is { Count: 2 } anyOf
        && anyOf.Any(s => s.Type is { } type && type.HasFlag(JsonSchemaType.Number))
        && anyOf.Any(s => s.Enum is { Count: > 0 } values
            && values.Any(v => v?.GetValueKind() == JsonValueKind.String && v.GetValue<string>() == "NaN"));
}
