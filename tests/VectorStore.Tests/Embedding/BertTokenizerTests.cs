using VectorStoreDb.Embedding;
using VectorStoreDb.Embedding.Onnx;

namespace VectorStoreDb.Tests.Embedding;

public class BertTokenizerTests
{
    private static BertTextTokenizer Tokenizer() => BertTextTokenizer.FromFolder(TestModels.Folder(TestModels.MiniLmTokenizer));

    [ModelFact(TestModels.MiniLmTokenizer, "vocab.txt")]
    public void Encodes_the_reference_example()
    {
        Assert.Equal([101, 2023, 2003, 2019, 2742, 6251, 102], Tokenizer().Encode("This is an example sentence", 512));
    }

    [ModelFact(TestModels.MiniLmTokenizer, "tokenizer-parity.jsonl")]
    public void Matches_the_reference_BERT_tokenizer_on_all_parity_lines()
    {
        var tokenizer = Tokenizer();
        var failures = new List<string>();
        int count = 0;
        foreach (var line in TestModels.ReadJsonLines(Path.Combine(TestModels.Folder(TestModels.MiniLmTokenizer), "tokenizer-parity.jsonl")))
        {
            count++;
            string text = line.GetProperty("text").GetString()!;
            int[] expected = [.. line.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32())];
            int[] actual = tokenizer.Encode(text, 100_000);
            if (!expected.SequenceEqual(actual))
            {
                failures.Add($"{text}\n  expected {string.Join(',', expected)}\n  actual   {string.Join(',', actual)}");
            }
        }
        Assert.Equal(150, count);
        Assert.True(failures.Count == 0, $"{failures.Count} mismatches:\n{string.Join('\n', failures)}");
    }

    [ModelFact(TestModels.MiniLmTokenizer, "vocab.txt")]
    public void Truncation_keeps_cls_and_sep()
    {
        var ids = Tokenizer().Encode(string.Join(' ', Enumerable.Repeat("example", 50)), 10);
        Assert.Equal(10, ids.Length);
        Assert.Equal(101, ids[0]);
        Assert.Equal(102, ids[^1]);
        Assert.All(ids[1..^1], id => Assert.Equal(2742, id));
    }

    [ModelFact(TestModels.MiniLmTokenizer, "vocab.txt")]
    public void Offsets_point_into_the_original_text()
    {
        const string text = "Café x=1, UNBELIEVABLE naïveté!";
        var pieces = new List<TokenSpan>();
        Tokenizer().Tokenize(text, pieces);
        Assert.Equal("Café", text[pieces[0].Start..pieces[0].End]);
        Assert.Equal("=", text[pieces[2].Start..pieces[2].End]);
        // Offsets never go backwards and stay inside the text.
        for (int i = 1; i < pieces.Count; i++)
        {
            Assert.True(pieces[i].Start >= pieces[i - 1].Start);
            Assert.True(pieces[i].End <= text.Length);
        }
        Assert.Equal("!", text[pieces[^1].Start..pieces[^1].End]);
    }

    [ModelFact(TestModels.MiniLmTokenizer, "tokenizer.json")]
    public void Loads_from_tokenizer_json_when_vocab_txt_is_absent()
    {
        using var temp = new TestData.TempFolder();
        File.Copy(Path.Combine(TestModels.Folder(TestModels.MiniLmTokenizer), "tokenizer.json"), Path.Combine(temp.Path, "tokenizer.json"));
        var fromJson = BertTextTokenizer.FromFolder(temp.Path);
        Assert.Equal(Tokenizer().Encode("x=1+2 and y<3>z naïve", 512), fromJson.Encode("x=1+2 and y<3>z naïve", 512));
    }
}
