using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.VectorData.ProviderServices;

namespace VectorStoreDb.Client.VectorData;

/// <summary>
/// Builds the MEVD collection model with this store's rules: one vector property (optional when the collection
/// embeds text on the server), vectors as float embeddings, data properties as metadata-compatible types.
/// </summary>
internal sealed class VectorStoreDbModelBuilder() : CollectionModelBuilder(BuildingOptions)
{
    private static readonly CollectionModelBuildingOptions BuildingOptions = new()
    {
        SupportsMultipleVectors = false,
        // A collection with a server-side encoder needs no vector property: the store embeds the document text.
        RequiresAtLeastOneVector = false,
    };

    internal static readonly Type[] VectorTypes = [typeof(ReadOnlyMemory<float>), typeof(ReadOnlyMemory<float>?), typeof(float[]), typeof(Embedding<float>)];

    protected override bool IsDataPropertyTypeValid(Type type, [NotNullWhen(false)] out string? supportedTypes)
    {
        supportedTypes = StorageValues.SupportedTypes;
        return StorageValues.IsSupported(type);
    }

    protected override bool IsVectorPropertyTypeValid(Type type, [NotNullWhen(false)] out string? supportedTypes)
    {
        supportedTypes = "ReadOnlyMemory<float>, ReadOnlyMemory<float>?, float[], Embedding<float>";
        return Array.IndexOf(VectorTypes, type) >= 0;
    }
}
