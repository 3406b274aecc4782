namespace VectorStoreDb.Engine;

/// <summary>What a start-up recovered, for logs and health endpoints.</summary>
public sealed record RecoveryReport(int Collections, int UnavailableCollections, long Documents, long LogRecordsReplayed, int ShardsFromCheckpoint, int TornLogTails, TimeSpan Elapsed);
