using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace VectorStoreDb.Client;

/// <summary>Registers the VectorStore gRPC client with dependency injection.</summary>
public static class VectorStoreClientServiceCollectionExtensions
{
    /// <summary>
    /// Adds one shared <see cref="VectorStoreGrpcClient"/> (it pools its HTTP/2 connections, so a singleton is
    /// right), resolvable as <see cref="IVectorStoreClient"/> and as itself.
    /// </summary>
    public static IServiceCollection AddVectorStoreClient(this IServiceCollection services, Uri address, Action<VectorStoreClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(address);
        var options = new VectorStoreClientOptions();
        configure?.Invoke(options);
        services.TryAddSingleton(_ => new VectorStoreGrpcClient(address, options));
        services.TryAddSingleton<IVectorStoreClient>(sp => sp.GetRequiredService<VectorStoreGrpcClient>());
        return services;
    }

    /// <summary>
    /// Adds one shared <see cref="VectorStoreGrpcClient"/> for the nodes of a cluster: calls are spread over the
    /// addresses and move to another node when one is down (see <see cref="VectorStoreGrpcClient"/>).
    /// </summary>
    public static IServiceCollection AddVectorStoreClient(this IServiceCollection services, IEnumerable<Uri> addresses, Action<VectorStoreClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(addresses);
        Uri[] nodes = [.. addresses];
        var options = new VectorStoreClientOptions();
        configure?.Invoke(options);
        services.TryAddSingleton(_ => new VectorStoreGrpcClient(nodes, options));
        services.TryAddSingleton<IVectorStoreClient>(sp => sp.GetRequiredService<VectorStoreGrpcClient>());
        return services;
    }
}
