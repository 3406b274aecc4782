using System.Globalization;
using VectorStoreDb.Engine;

namespace VectorStoreDb.Cluster.Replication;

/// <summary>How many replicas must have a write durable before it is acknowledged.</summary>
public static class WriteQuorum
{
    public const string Majority = "majority";
    public const string All = "all";

    /// <summary>Checks a <c>writeConsistency</c> value against the replica count; returns it normalised.</summary>
    public static string Validate(string? rule, int replicas)
    {
        string value = (rule ?? Majority).Trim().ToLowerInvariant();
        if (value is Majority or All)
        {
            return value;
        }
        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= 1 && n <= replicas)
        {
            return value;
        }
        throw new VectorStoreException(ErrorCode.InvalidArgument,
            $"writeConsistency: use 'majority', 'all' or a number from 1 to the replica count ({replicas}), was '{rule}'.", "writeConsistency");
    }

    /// <summary>
    /// Replicas that must acknowledge: every live replica, and never fewer than the rule's floor (a majority of all
    /// replicas, all of them, or the given number).
    /// </summary>
    public static int Required(string rule, int replicas, int live)
    {
        int floor = rule switch
        {
            Majority => replicas / 2 + 1,
            All => replicas,
            _ => int.Parse(rule, CultureInfo.InvariantCulture),
        };
        return Math.Max(floor, live);
    }
}
