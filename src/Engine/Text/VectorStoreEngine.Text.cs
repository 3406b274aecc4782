using VectorStoreDb.Engine.Text;

namespace VectorStoreDb.Engine;

// Validation of a new collection's full-text settings.
public sealed partial class VectorStoreEngine
{
    private static CollectionSettings ResolveTextSettings(CreateCollectionRequest request, CollectionSettings settings)
    {
        bool text = request.Text ?? (request.TextLanguage is not null || request.Bm25K1 is not null || request.Bm25B is not null);
        if (!text && (request.TextLanguage is not null || request.Bm25K1 is not null || request.Bm25B is not null))
        {
            throw VectorStoreException.Invalid("text", "textLanguage, bm25K1 and bm25B need \"text\": true.");
        }
        TextIndexSettings? textSettings = null;
        if (text)
        {
            string language = request.TextLanguage?.Trim().ToLowerInvariant() ?? TextAnalyzer.English;
            if (!TextAnalyzer.Languages.Contains(language))
            {
                throw VectorStoreException.Invalid("textLanguage", $"unknown language '{request.TextLanguage}'; use {string.Join(" or ", TextAnalyzer.Languages)}.");
            }
            float k1 = request.Bm25K1 ?? 1.2f;
            if (!float.IsFinite(k1) || k1 < 0f || k1 > 100f)
            {
                throw VectorStoreException.Invalid("bm25K1", $"must be between 0 and 100, was {k1}.");
            }
            float b = request.Bm25B ?? 0.75f;
            if (!float.IsFinite(b) || b < 0f || b > 1f)
            {
                throw VectorStoreException.Invalid("bm25B", $"must be between 0 and 1, was {b}.");
            }
            textSettings = new TextIndexSettings { Language = language, K1 = k1, B = b };
        }
        string mode = request.DefaultMode?.Trim().ToLowerInvariant() ?? QueryModes.Dense;
        if (!QueryModes.All.Contains(mode))
        {
            throw VectorStoreException.Invalid("defaultMode", $"unknown mode '{request.DefaultMode}'; use {string.Join(", ", QueryModes.All)}.");
        }
        if (mode != QueryModes.Dense && textSettings is null)
        {
            throw VectorStoreException.Invalid("defaultMode", $"{mode} needs a text index (\"text\": true).");
        }
        if (mode == QueryModes.Hybrid && settings.Encoder is null)
        {
            throw VectorStoreException.Invalid("defaultMode", "hybrid needs an encoder to embed the query text.");
        }
        return settings with { TextIndex = textSettings, DefaultMode = mode };
    }
}
