using Microsoft.Extensions.AI;
using VectorStoreDb.Rag;

namespace VectorStoreDb.Client.Embedded;

/// <summary>RAG chat for the embedded store, as a Microsoft.Extensions.AI <see cref="IChatClient"/>.</summary>
public static class EmbeddedChatExtensions
{
    // The extractive generator holds only a limiter, so one instance serves every embedded store in the process.
    private static readonly Lazy<GeneratorRegistry> DefaultGenerators = new(GeneratorRegistry.CreateDefault);

    /// <summary>
    /// An <see cref="IChatClient"/> answering from <paramref name="collection"/> in-process. Without
    /// <paramref name="generators"/> it uses the extractive generator; pass a <see cref="GeneratorRegistry"/>
    /// built from <see cref="RagOptions"/> to use a local ONNX decoder (the caller owns and disposes it).
    /// </summary>
    public static IChatClient AsChatClient(this EmbeddedVectorStore store, string collection, GeneratorRegistry? generators = null, RagDefaults? defaults = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentException.ThrowIfNullOrEmpty(collection);
        return new RagChatClient(new RagService(store.Engine, generators ?? DefaultGenerators.Value, defaults), collection);
    }
}
