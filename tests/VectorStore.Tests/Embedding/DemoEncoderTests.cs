using VectorStoreDb.Embedding;
using VectorStoreDb.Index;

namespace VectorStoreDb.Tests.Embedding;

public class DemoEncoderTests
{
    private static readonly DemoEncoder Encoder = new();

    private static float Cosine(string a, string b) => VectorKernels.Dot(Encoder.Embed(a), Encoder.Embed(b));

    [Fact]
    public void Vectors_are_unit_length_with_the_declared_dimension()
    {
        var v = Encoder.Embed("The quick brown fox");
        Assert.Equal(DemoEncoder.DefaultDimension, v.Length);
        Assert.Equal(1.0, VectorKernels.Dot(v, v), 1e-5);
    }

    [Fact]
    public void Texts_sharing_words_score_higher_than_unrelated_texts()
    {
        string anchor = "cats are small furry pets";
        Assert.True(Cosine(anchor, "small cats make good pets") > Cosine(anchor, "the stock market fell sharply today"));
        Assert.True(Cosine("vector database index", "a database with a vector index") > Cosine("vector database index", "chocolate cake recipe"));
        Assert.True(Cosine("databases", "database") > Cosine("databases", "volcano"));
    }

    [Fact]
    public void Embedding_is_deterministic_across_instances_and_case()
    {
        var other = new DemoEncoder();
        Assert.Equal(Encoder.Embed("Hello World"), other.Embed("hello world"));
    }

    [Fact]
    public void Golden_values_pin_the_encoder_across_machines()
    {
        // The encoder's contract: if these change, every stored demo collection silently changes meaning.
        var v = Encoder.Embed("vector database");
        Assert.Equal(DemoEncoder.DefaultDimension, v.Length);
        Assert.All(v, x => Assert.True(x >= 0)); // ReLU before pooling: no negative components
        Assert.Equal(GoldenPrefixBits, v[..4].Select(BitConverter.SingleToInt32Bits));
    }

    private static readonly int[] GoldenPrefixBits = [1020255032, 997252213, 1005182208, 1027437356]; // 0.0253730863, 0.00367524964, 0.00713694096, 0.0462524146

    [Fact]
    public void Empty_text_gives_the_zero_vector()
    {
        Assert.All(Encoder.Embed("  ...  "), x => Assert.Equal(0f, x));
    }
}
