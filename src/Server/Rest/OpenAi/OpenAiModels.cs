using VectorStoreDb.Engine;
using VectorStoreDb.Rag;
using VectorStoreDb.Server.Hosting;
using VectorStoreDb.Server.Operations;

namespace VectorStoreDb.Server.Rest.OpenAi;

/// <summary>Where a chat request goes: the collection to answer from and, optionally, the generator.</summary>
public sealed record ChatRoute(string Collection, string? Generator);

/// <summary>
/// <c>GET /v1/models</c> and <c>GET /v1/models/{id}</c>: what OpenAI clients can name as <c>model</c>. Embedding models
/// are the encoders (<c>/v1/embeddings</c>); chat models are the collections that have an encoder, alone (default
/// generator) or as <c>{collection}:{generator}</c>; the generators are listed too, so a UI can offer the pairs.
/// </summary>
public static class OpenAiModels
{
    public const string OwnedBy = "vectorstore";

    public static IEndpointRouteBuilder MapOpenAiModels(this IEndpointRouteBuilder app)
    {
        app.MapGet($"{OpenAiErrorWriter.RoutePrefix}/models", async (RagService rag, VectorStoreEngine engine, IDocumentStore store, CancellationToken cancellationToken) =>
            TypedResults.Json(new OpenAiModelList("list", List(rag, engine, await store.ListSettingsAsync(cancellationToken))), OpenAiChatApi.Json))
            .WithTags("OpenAI").WithName("listModels").RequireReadKey().Produces<OpenAiModelList>()
            .WithSummary("OpenAI-compatible model list: encoders (embeddings), collections (chat) and generators.");

        app.MapGet($"{OpenAiErrorWriter.RoutePrefix}/models/{{id}}", async (string id, RagService rag, VectorStoreEngine engine, IDocumentStore store, CancellationToken cancellationToken) =>
            TypedResults.Json(Find(id, rag, engine, await store.ListSettingsAsync(cancellationToken)), OpenAiChatApi.Json))
            .WithTags("OpenAI").WithName("retrieveModel").RequireReadKey().Produces<OpenAiModel>()
            .WithSummary("One model of /v1/models, or a chat route \"{collection}:{generator}\".");
        return app;
    }

    // collections: every collection's settings from the document store (in cluster mode, the cluster's catalog).
    internal static IReadOnlyList<OpenAiModel> List(RagService rag, VectorStoreEngine engine, IReadOnlyList<CollectionSettings> collections)
    {
        var models = new List<OpenAiModel>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        // A collection named like an encoder routes chat, which is the more useful meaning of the id.
        foreach (var collection in collections.Where(c => c.Encoder is not null).OrderBy(c => c.Name, StringComparer.Ordinal))
        {
            if (seen.Add(collection.Name))
            {
                models.Add(Model(collection.Name, "collection"));
            }
        }
        foreach (var generator in rag.Generators.List())
        {
            if (seen.Add(generator.Name))
            {
                models.Add(Model(generator.Name, "generator"));
            }
        }
        foreach (var encoder in engine.Encoders.List())
        {
            if (seen.Add(encoder.Name))
            {
                models.Add(Model(encoder.Name, "encoder"));
            }
        }
        return models;
    }

    private static OpenAiModel Model(string id, string kind) => new(id, "model", 0, OwnedBy, kind);

    private static OpenAiModel Find(string id, RagService rag, VectorStoreEngine engine, IReadOnlyList<CollectionSettings> collections)
    {
        if (id.Contains(':', StringComparison.Ordinal))
        {
            var route = ResolveChat(id, null, rag, collections);
            return Model($"{route.Collection}:{rag.Generators.Get(route.Generator).Name}", "collection");
        }
        return List(rag, engine, collections).FirstOrDefault(m => string.Equals(m.Id, id, StringComparison.OrdinalIgnoreCase))
            ?? throw OpenAiRequestException.ModelNotFound(id, "GET /v1/models lists the encoders, collections and generators.");
    }

    /// <summary>
    /// Reads the chat route from <c>model</c> (<c>{collection}</c> or <c>{collection}:{generator}</c>; collection names
    /// cannot contain ':'), or from the extra field <c>collection</c>, when <c>model</c> may name a generator.
    /// </summary>
    internal static ChatRoute ResolveChat(string model, string? collection, RagService rag, IReadOnlyList<CollectionSettings> collections)
    {
        if (collection is not null)
        {
            string? generator = rag.Generators.List().Any(g => string.Equals(g.Name, model, StringComparison.OrdinalIgnoreCase)) ? model : null;
            return new ChatRoute(collection, generator);
        }
        if (model.Length == 0)
        {
            throw new OpenAiRequestException(StatusCodes.Status400BadRequest,
                "You must provide a model parameter: a collection name, or \"{collection}:{generator}\" (GET /v1/models lists them).", "model", "missing_required_parameter");
        }
        int colon = model.IndexOf(':', StringComparison.Ordinal);
        string name = colon < 0 ? model : model[..colon];
        string? generatorName = colon < 0 ? null : model[(colon + 1)..];
        var info = collections.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.Ordinal))
            ?? throw OpenAiRequestException.ModelNotFound(model, $"chat models are collections, and there is no collection '{name}' (GET /v1/models lists them).");
        if (info.Encoder is null)
        {
            throw OpenAiRequestException.ModelNotFound(model, $"collection '{name}' stores raw vectors (no encoder), so it cannot answer questions.");
        }
        if (generatorName is not null && !rag.Generators.List().Any(g => string.Equals(g.Name, generatorName, StringComparison.OrdinalIgnoreCase)))
        {
            throw OpenAiRequestException.ModelNotFound(model,
                $"there is no generator '{generatorName}'; known: {string.Join(", ", rag.Generators.List().Select(g => g.Name))}.");
        }
        return new ChatRoute(name, generatorName);
    }
}
