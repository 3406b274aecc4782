using Orleans.Runtime.Placement;
using VectorStoreDb.Cluster.Replication;
using VectorStoreDb.Cluster.Wire;

namespace VectorStoreDb.Cluster.Placement;

/// <summary>
/// Finds the active silo named by a replica key. A node that is down has no silo, so activating its replica fails
/// with Unavailable instead of starting an empty replica somewhere else.
/// </summary>
internal sealed class NodePinnedPlacementDirector(IClusterMembershipService membership) : IPlacementDirector
{
    public Task<SiloAddress> OnAddActivation(PlacementStrategy strategy, PlacementTarget target, IPlacementContext context)
    {
        string node = ReplicaKey.Parse(target.GrainIdentity.Key.ToString()!).Node;
        var compatible = context.GetCompatibleSilos(target);
        foreach (var member in membership.CurrentSnapshot.Members.Values)
        {
            if (member.Status == SiloStatus.Active && member.Name == node && compatible.Contains(member.SiloAddress))
            {
                return Task.FromResult(member.SiloAddress);
            }
        }
        throw ClusterException.Unavailable($"Node '{node}' is not an active member of the cluster.");
    }
}
