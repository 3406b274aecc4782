namespace VectorStoreDb.Cluster.Placement;

/// <summary>
/// Places a grain on the silo whose node name starts its key (<c>node|...</c>): a replica lives where its data is.
/// </summary>
[Serializable, GenerateSerializer, Immutable, SuppressReferenceTracking]
public sealed class NodePinnedPlacement : PlacementStrategy
{
    internal static NodePinnedPlacement Instance { get; } = new();
}
