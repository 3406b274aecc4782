namespace VectorStoreDb.Engine.Validation;

/// <summary>
/// Checks a request's shape against the documented rules and <see cref="LimitsOptions"/> before the engine touches
/// anything, so a refused request changes nothing. Rules that need a collection's settings (a vector's dimension, a
/// query's mode) are checked by the collection itself.
/// </summary>
internal sealed class RequestValidator(LimitsOptions limits)
{
    /// <summary>Largest page a listing or scroll returns.</summary>
    public const int MaxPageSize = 1_000;

    /// <summary>
    /// Ids, texts and metadata of an upsert: the name rule for every given id (<see cref="NameRules"/>), each id once
    /// per batch, a text or a vector in every document, no lone surrogate in text or metadata, batch size, text length
    /// and metadata size within the limits.
    /// </summary>
    public void Upsert(IReadOnlyList<DocumentInput> documents)
    {
        ArgumentNullException.ThrowIfNull(documents);
        if (documents.Count == 0)
        {
            throw VectorStoreException.Invalid("documents", "at least one document is required.");
        }
        if (documents.Count > limits.MaxBatchSize)
        {
            throw new VectorStoreException(ErrorCode.LimitExceeded, $"documents: {documents.Count} documents in one request; the limit is {limits.MaxBatchSize}.", "documents");
        }
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < documents.Count; i++)
        {
            var document = documents[i] ?? throw VectorStoreException.Invalid($"documents[{i}]", "must not be null.");
            string field = $"documents[{i}]";
            if (document.Id is not null)
            {
                NameRules.DocumentId(document.Id, $"{field}.id", limits.MaxIdLength);
                if (!seen.Add(document.Id))
                {
                    throw VectorStoreException.Invalid($"{field}.id", $"'{document.Id}' appears more than once in this batch.");
                }
            }
            if (document.Text is { } text)
            {
                if (text.Length > limits.MaxTextLength)
                {
                    throw new VectorStoreException(ErrorCode.LimitExceeded, $"{field}.text: {text.Length} characters; the limit is {limits.MaxTextLength}.", $"{field}.text");
                }
                Utf16Text.Require(text, $"{field}.text");
            }
            if (document.Vector is null && string.IsNullOrWhiteSpace(document.Text))
            {
                throw VectorStoreException.Invalid($"{field}.text", "a document needs a non-empty text or a vector.");
            }
            if (document.Metadata is { } metadata)
            {
                Metadata.RequireValidUtf16(metadata, $"{field}.metadata");
                if (Metadata.ToUtf8Json(metadata).Length > limits.MaxMetadataBytes)
                {
                    throw new VectorStoreException(ErrorCode.LimitExceeded, $"{field}.metadata: larger than the limit of {limits.MaxMetadataBytes} bytes.", $"{field}.metadata");
                }
            }
        }
    }

    /// <summary>k, ef and the query text; the collection checks what needs its settings (the vector's dimension, the mode).</summary>
    public void Query(QueryRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.K < 1 || request.K > limits.MaxK)
        {
            throw VectorStoreException.Invalid("k", $"must be between 1 and {limits.MaxK}, was {request.K}.");
        }
        if (request.Ef is { } ef && (ef < request.K || ef > 10 * limits.MaxK))
        {
            throw VectorStoreException.Invalid("ef", $"must be at least k ({request.K}) and at most {10 * limits.MaxK}, was {ef}.");
        }
        if (request.Text is { } text)
        {
            if (text.Length > limits.MaxTextLength)
            {
                throw new VectorStoreException(ErrorCode.LimitExceeded, $"text: {text.Length} characters; the limit is {limits.MaxTextLength}.", "text");
            }
            Utf16Text.Require(text, "text");
        }
    }

    public void Embed(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (texts.Count == 0)
        {
            throw VectorStoreException.Invalid("texts", "at least one text is required.");
        }
        if (texts.Count > limits.MaxEmbedBatch)
        {
            throw new VectorStoreException(ErrorCode.LimitExceeded, $"texts: {texts.Count} texts in one request; the limit is {limits.MaxEmbedBatch}.", "texts");
        }
        for (int i = 0; i < texts.Count; i++)
        {
            if (string.IsNullOrEmpty(texts[i]))
            {
                throw VectorStoreException.Invalid($"texts[{i}]", "must be a non-empty string.");
            }
            if (texts[i].Length > limits.MaxTextLength)
            {
                throw new VectorStoreException(ErrorCode.LimitExceeded, $"texts[{i}]: {texts[i].Length} characters; the limit is {limits.MaxTextLength}.", $"texts[{i}]");
            }
            Utf16Text.Require(texts[i], $"texts[{i}]");
        }
    }

    public static void Page(int offset, int limit)
    {
        if (offset < 0)
        {
            throw VectorStoreException.Invalid("offset", "must be 0 or more.");
        }
        PageSize(limit);
    }

    public static void PageSize(int limit)
    {
        if (limit < 1 || limit > MaxPageSize)
        {
            throw VectorStoreException.Invalid("limit", $"must be between 1 and {MaxPageSize}.");
        }
    }

    /// <summary>A batch get: at most <see cref="LimitsOptions.MaxBatchSize"/> ids (the upsert batch limit), none null.</summary>
    public void GetMany(IReadOnlyList<string> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count > limits.MaxBatchSize)
        {
            throw new VectorStoreException(ErrorCode.LimitExceeded, $"ids: {ids.Count} ids in one request; the limit is {limits.MaxBatchSize}.", "ids");
        }
        for (int i = 0; i < ids.Count; i++)
        {
            if (ids[i] is null)
            {
                throw VectorStoreException.Invalid($"ids[{i}]", "must not be null.");
            }
        }
    }

    public static void Scroll(ScrollRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        PageSize(request.Limit);
        if (request.OrderBy is { } order && (string.IsNullOrEmpty(order.Field) || Utf16Text.HasLoneSurrogate(order.Field)))
        {
            throw VectorStoreException.Invalid("orderBy.field", "must name a metadata key.");
        }
    }
}
