using VectorStoreDb.Engine;
using VectorStoreDb.Engine.Storage;
using VectorStoreDb.Server.Hosting;
using VectorStoreDb.Server.Operations;

namespace VectorStoreDb.Server.Rest;

/// <summary>Snapshot routes under <c>/collections/{name}/snapshots</c>.</summary>
public static class SnapshotApi
{
    public static IEndpointRouteBuilder MapSnapshotRestApi(this IEndpointRouteBuilder app)
    {
        var snapshots = app.MapGroup("/collections/{name}/snapshots").WithTags("Snapshots");

        // The body is optional ({"name": "..."}), so it is read by hand as for collection creation.
        snapshots.MapPost("/", async (string name, HttpRequest request, VectorStoreEngine engine, IDocumentStore store, CancellationToken cancellationToken) =>
        {
            store.EnsureSnapshotsSupported();
            bool hasBody = request.ContentLength > 0 || (request.ContentLength is null && request.Headers.TransferEncoding.Count > 0);
            if (hasBody && !request.HasJsonContentType())
            {
                throw new VectorStoreException(ErrorCode.InvalidArgument, "body: send JSON with Content-Type: application/json.", "body");
            }
            var body = hasBody ? await request.ReadFromJsonAsync<CreateSnapshotBody>(cancellationToken) : null;
            var info = await engine.CreateSnapshotAsync(name, body?.Name, cancellationToken);
            return TypedResults.Created($"/collections/{Uri.EscapeDataString(name)}/snapshots/{Uri.EscapeDataString(info.Name)}", SnapshotDto.From(info));
        }).RequireAdminKey().WithName("createSnapshot").Accepts<CreateSnapshotBody>(isOptional: true, "application/json")
            .WithSummary("Write a consistent snapshot of the collection (writes go on meanwhile).");

        snapshots.MapGet("/", (string name, VectorStoreEngine engine, IDocumentStore store) =>
        {
            store.EnsureSnapshotsSupported();
            return TypedResults.Ok(new SnapshotListDto([.. engine.ListSnapshots(name).Select(SnapshotDto.From)]));
        })
            .RequireReadKey().WithName("listSnapshots").WithSummary("List the collection's snapshots.");

        snapshots.MapGet("/{snapshot}", (string name, string snapshot, VectorStoreEngine engine, IDocumentStore store) =>
        {
            store.EnsureSnapshotsSupported();
            return TypedResults.Stream(engine.OpenSnapshot(name, snapshot), "application/octet-stream", $"{snapshot}.vsnap");
        })
            // A read key can read every document anyway, so downloading a snapshot is a read too.
            .RequireReadKey().WithName("downloadSnapshot").Produces(StatusCodes.Status200OK, typeof(byte[]), "application/octet-stream")
            .WithSummary("Download a snapshot file.");

        snapshots.MapDelete("/{snapshot}", (string name, string snapshot, VectorStoreEngine engine, IDocumentStore store) =>
        {
            store.EnsureSnapshotsSupported();
            engine.DeleteSnapshot(name, snapshot);
            return TypedResults.NoContent();
        }).RequireAdminKey().WithName("deleteSnapshot").WithSummary("Delete a snapshot file.");

        snapshots.MapPost("/{snapshot}/restore", async (string name, string snapshot, RestoreSnapshotBody body, VectorStoreEngine engine, IDocumentStore store, CancellationToken cancellationToken) =>
        {
            store.EnsureSnapshotsSupported();
            string target = body.Target ?? throw new VectorStoreException(ErrorCode.InvalidArgument, "target: required, e.g. {\"target\":\"restored\"}.", "target");
            var info = await engine.RestoreSnapshotAsync(name, snapshot, target, cancellationToken);
            return TypedResults.Created($"/collections/{Uri.EscapeDataString(info.Settings.Name)}", CollectionDto.From(info));
        }).RequireAdminKey().WithName("restoreSnapshot").ProducesProblem(StatusCodes.Status409Conflict).WithSummary("Restore a snapshot into a new collection.");

        return app;
    }
}

public sealed record CreateSnapshotBody(string? Name = null);

public sealed record RestoreSnapshotBody(string? Target = null);

public sealed record SnapshotDto(string Collection, string Name, long SizeBytes, DateTimeOffset CreatedAt)
{
    public static SnapshotDto From(SnapshotInfo info) => new(info.Collection, info.Name, info.SizeBytes, info.CreatedAt);
}

public sealed record SnapshotListDto(IReadOnlyList<SnapshotDto> Snapshots);
