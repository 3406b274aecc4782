using System.Text;

namespace VectorStoreDb.Engine.Projection;

/// <summary>
/// A linear map from full embeddings to the (smaller) vectors an index holds. The engine keeps the full vector per
/// document and rescores index candidates with it, so a projection trades a little recall for memory and speed.
/// </summary>
public interface IProjection
{
    /// <summary><c>none</c>, <c>random</c> or <c>pca</c>.</summary>
    string Kind { get; }

    /// <summary>Length of the vectors this projection accepts.</summary>
    int InputDimension { get; }

    /// <summary>Length of the vectors it produces.</summary>
    int OutputDimension { get; }

    /// <summary>Projects <paramref name="input"/> into <paramref name="output"/> (length <see cref="OutputDimension"/>).</summary>
    void Project(ReadOnlySpan<float> input, Span<float> output);

    /// <summary>Writes the projection so <see cref="ProjectionSerializer.Read"/> restores an identical one.</summary>
    void Write(Stream stream);
}

/// <summary>Creates projections by kind and restores persisted ones.</summary>
public static class ProjectionSerializer
{
    private const uint Magic = 0x4A505356; // "VSPJ"
    private const int Version = 1;

    /// <summary>Names accepted by <see cref="Create"/>.</summary>
    public static readonly IReadOnlyList<string> Kinds = ["none", "random", "pca"];

    /// <summary>
    /// Builds a projection. <c>pca</c> needs <paramref name="sample"/> (vectors of <paramref name="inputDimension"/>);
    /// <c>random</c> uses <paramref name="seed"/>.
    /// </summary>
    public static IProjection Create(string kind, int inputDimension, int outputDimension, IReadOnlyList<float[]>? sample = null, ulong seed = 0x5EED)
    {
        return kind.ToLowerInvariant() switch
        {
            "none" => new IdentityProjection(inputDimension),
            "random" => RandomProjection.Create(inputDimension, outputDimension, seed),
            "pca" => PcaProjection.Fit(sample ?? throw new ArgumentException("PCA needs a sample of vectors to fit.", nameof(sample)), outputDimension),
            _ => throw new ArgumentException($"Unknown projection '{kind}'; use none, random or pca.", nameof(kind)),
        };
    }

    internal static void WriteHeader(BinaryWriter writer, string kind, int input, int output)
    {
        writer.Write(Magic);
        writer.Write(Version);
        writer.Write(kind);
        writer.Write(input);
        writer.Write(output);
    }

    /// <summary>Restores a projection written by <see cref="IProjection.Write"/>.</summary>
    /// <exception cref="InvalidDataException">The stream does not hold a projection.</exception>
    public static IProjection Read(Stream stream)
    {
        using var reader = new BinaryReader(stream, Encoding.UTF8, leaveOpen: true);
        if (reader.ReadUInt32() != Magic)
        {
            throw new InvalidDataException("Not a VectorStore projection (bad magic).");
        }
        int version = reader.ReadInt32();
        if (version != Version)
        {
            throw new InvalidDataException($"Unsupported projection format version {version}.");
        }
        string kind = reader.ReadString();
        int input = reader.ReadInt32();
        int output = reader.ReadInt32();
        if (input < 1 || output < 1 || output > input)
        {
            throw new InvalidDataException($"Invalid projection dimensions {input} -> {output}.");
        }
        return kind switch
        {
            "none" => new IdentityProjection(input),
            "random" => new RandomProjection(input, output, ReadFloats(reader, input * output)),
            "pca" => new PcaProjection(ReadFloats(reader, input), ReadFloats(reader, input * output), ReadFloats(reader, output)),
            _ => throw new InvalidDataException($"Unknown projection kind '{kind}'."),
        };
    }

    internal static void WriteFloats(BinaryWriter writer, ReadOnlySpan<float> values)
    {
        foreach (float v in values)
        {
            writer.Write(v);
        }
    }

    private static float[] ReadFloats(BinaryReader reader, int count)
    {
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = reader.ReadSingle();
        }
        return values;
    }
}

/// <summary>No projection: the index holds the full vector.</summary>
public sealed class IdentityProjection(int dimension) : IProjection
{
    public string Kind => "none";

    public int InputDimension { get; } = dimension;

    public int OutputDimension => InputDimension;

    public void Project(ReadOnlySpan<float> input, Span<float> output) => input[..InputDimension].CopyTo(output);

    public void Write(Stream stream)
    {
        using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        ProjectionSerializer.WriteHeader(writer, Kind, InputDimension, OutputDimension);
    }
}
