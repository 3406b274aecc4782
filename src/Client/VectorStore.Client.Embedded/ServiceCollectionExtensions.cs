using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using VectorStoreDb.Engine;

namespace VectorStoreDb.Client.Embedded;

/// <summary>Registers the embedded store with dependency injection.</summary>
public static class EmbeddedVectorStoreServiceCollectionExtensions
{
    /// <summary>
    /// Adds one <see cref="EmbeddedVectorStore"/> over <paramref name="dataPath"/>, opened on first use and disposed
    /// with the container, resolvable as <see cref="IVectorStoreClient"/> and as itself. Logs through the
    /// container's <see cref="ILoggerFactory"/> when there is one.
    /// </summary>
    public static IServiceCollection AddEmbeddedVectorStore(this IServiceCollection services, string dataPath, Action<VectorStoreOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrWhiteSpace(dataPath);
        services.TryAddSingleton(sp => EmbeddedVectorStore.Open(dataPath, configure, sp.GetService<ILoggerFactory>()));
        services.TryAddSingleton<IVectorStoreClient>(sp => sp.GetRequiredService<EmbeddedVectorStore>());
        return services;
    }
}
