using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.VectorData;

namespace VectorStoreDb.Client.VectorData;

/// <summary>Registers VectorStore as the application's Microsoft.Extensions.VectorData store.</summary>
public static class VectorDataServiceCollectionExtensions
{
    /// <summary>
    /// Adds a <see cref="VectorStoreDbVectorStore"/> over the registered <see cref="IVectorStoreClient"/> (add one
    /// first with <c>AddVectorStoreClient</c> or <c>AddEmbeddedVectorStore</c>), resolvable as MEVD's
    /// <c>VectorStore</c> and as itself. Without an embedding generator in the options, a registered
    /// <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> of string to <see cref="Embedding{T}"/> of float is used.
    /// </summary>
    public static IServiceCollection AddVectorStoreDbVectorStore(this IServiceCollection services, Action<VectorStoreDbVectorStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(sp =>
        {
            var options = new VectorStoreDbVectorStoreOptions();
            configure?.Invoke(options);
            options.EmbeddingGenerator ??= sp.GetService<IEmbeddingGenerator<string, Embedding<float>>>();
            return new VectorStoreDbVectorStore(sp.GetRequiredService<IVectorStoreClient>(), options);
        });
        services.TryAddSingleton<VectorStore>(sp => sp.GetRequiredService<VectorStoreDbVectorStore>());
        return services;
    }
}
