namespace VectorStoreDb.Server.Rest;

/// <summary>Answer of the <c>/healthz</c> and <c>/readyz</c> probes: <c>ok</c> or <c>ready</c>.</summary>
public sealed record ProbeStatusDto(string Status);
