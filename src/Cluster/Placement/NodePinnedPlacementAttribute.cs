using Orleans.Placement;

namespace VectorStoreDb.Cluster.Placement;

/// <summary>Marks a grain class as placed by <see cref="NodePinnedPlacement"/>.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false)]
public sealed class NodePinnedPlacementAttribute() : PlacementAttribute(NodePinnedPlacement.Instance);
