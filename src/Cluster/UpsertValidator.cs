using VectorStoreDb.Engine;

namespace VectorStoreDb.Cluster;

/// <summary>
/// Checks a whole upsert batch on the coordinator before any shard sees it, because a batch spans shards and one
/// shard refusing its part must not leave the others written. Mirrors the engine's documented rules (the engine has no
/// public dry run); the replicas check again with the engine itself, and refuse alike if a rule here is missing.
/// </summary>
internal static class UpsertValidator
{
    public static string[] Validate(IReadOnlyList<DocumentInput> documents, CollectionSettings settings, LimitsOptions limits)
    {
        if (documents.Count == 0)
        {
            throw Invalid("documents", "at least one document is required.");
        }
        if (documents.Count > limits.MaxBatchSize)
        {
            throw new VectorStoreException(ErrorCode.LimitExceeded, $"documents: {documents.Count} documents in one request; the limit is {limits.MaxBatchSize}.", "documents");
        }
        var ids = new string[documents.Count];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < documents.Count; i++)
        {
            string field = $"documents[{i}]";
            var document = documents[i] ?? throw Invalid(field, "must not be null.");
            ids[i] = document.Id is null ? Guid.CreateVersion7().ToString() : ValidateId(document.Id, $"{field}.id", limits);
            if (!seen.Add(ids[i]))
            {
                throw Invalid($"{field}.id", $"'{ids[i]}' appears more than once in this batch.");
            }
            if (document.Text is { Length: var length } && length > limits.MaxTextLength)
            {
                throw new VectorStoreException(ErrorCode.LimitExceeded, $"{field}.text: {length} characters; the limit is {limits.MaxTextLength}.", $"{field}.text");
            }
            if (document.Metadata is { } metadata && Metadata.ToUtf8Json(metadata).Length > limits.MaxMetadataBytes)
            {
                throw new VectorStoreException(ErrorCode.LimitExceeded, $"{field}.metadata: larger than the limit of {limits.MaxMetadataBytes} bytes.", $"{field}.metadata");
            }
            if (document.Vector is { } vector)
            {
                if (vector.Length != settings.Dimension)
                {
                    throw Invalid($"{field}.vector", $"expected dimension {settings.Dimension}, got {vector.Length}.");
                }
                foreach (float x in vector)
                {
                    if (!float.IsFinite(x))
                    {
                        throw Invalid($"{field}.vector", "contains NaN or infinity.");
                    }
                }
            }
            else if (string.IsNullOrWhiteSpace(document.Text))
            {
                throw Invalid($"{field}.text", "a document needs a non-empty text or a vector.");
            }
            else if (settings.Encoder is null)
            {
                throw Invalid($"{field}.vector", $"collection '{settings.Name}' has no encoder, so every document needs a vector of dimension {settings.Dimension}.");
            }
        }
        return ids;
    }

    public static string ValidateId(string id, string field, LimitsOptions limits)
    {
        if (id.Length == 0 || id.Length > limits.MaxIdLength)
        {
            throw Invalid(field, $"ids must be 1-{limits.MaxIdLength} characters.");
        }
        foreach (char c in id)
        {
            if (char.IsControl(c) || c == '/')
            {
                throw Invalid(field, "ids must not contain control characters or '/'.");
            }
        }
        return id;
    }

    private static VectorStoreException Invalid(string field, string message) => new(ErrorCode.InvalidArgument, $"{field}: {message}", field);
}
