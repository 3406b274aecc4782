using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Tokenizers;

namespace VectorStoreDb.Benchmarks.Embedding;

/// <summary>
/// A minimal BERT sentence encoder (WordPiece → ONNX → mean pooling → L2 norm) so the SciFact benchmark can fuse BM25
/// with a real dense model before the engine's ONNX encoder is on main. Benchmark-only: the engine's encoder replaces it.
/// </summary>
internal sealed class OnnxSentenceEncoder : IDisposable
{
    private const int MaxTokens = 128;
    private readonly InferenceSession _session;
    private readonly BertTokenizer _tokenizer;

    public OnnxSentenceEncoder(string folder)
    {
        _tokenizer = BertTokenizer.Create(Path.Combine(folder, "vocab.txt"));
        var options = new SessionOptions { IntraOpNumThreads = Environment.ProcessorCount, GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL };
        _session = new InferenceSession(Path.Combine(folder, "model.onnx"), options);
    }

    public IReadOnlyList<int> Tokenize(string text) => _tokenizer.EncodeToIds(text, MaxTokens, out _, out _);

    public float[][] Embed(IReadOnlyList<string> texts)
    {
        var result = new float[texts.Count][];
        const int Batch = 32;
        for (int start = 0; start < texts.Count; start += Batch)
        {
            int count = Math.Min(Batch, texts.Count - start);
            var sequences = Enumerable.Range(start, count).Select(i => Tokenize(texts[i])).ToArray();
            int length = sequences.Max(s => s.Count);
            var ids = new long[count * length];
            var mask = new long[count * length];
            var types = new long[count * length];
            for (int b = 0; b < count; b++)
            {
                for (int t = 0; t < sequences[b].Count; t++)
                {
                    ids[b * length + t] = sequences[b][t];
                    mask[b * length + t] = 1;
                }
            }
            long[] shape = [count, length];
            using var idsValue = OrtValue.CreateTensorValueFromMemory(ids, shape);
            using var maskValue = OrtValue.CreateTensorValueFromMemory(mask, shape);
            using var typesValue = OrtValue.CreateTensorValueFromMemory(types, shape);
            using var runOptions = new RunOptions();
            using var outputs = _session.Run(runOptions, ["input_ids", "attention_mask", "token_type_ids"], [idsValue, maskValue, typesValue], ["last_hidden_state"]);
            var hidden = outputs[0].GetTensorDataAsSpan<float>();
            int dimension = hidden.Length / (count * length);
            for (int b = 0; b < count; b++)
            {
                var vector = new float[dimension];
                int tokens = sequences[b].Count;
                for (int t = 0; t < tokens; t++)
                {
                    var row = hidden.Slice((b * length + t) * dimension, dimension);
                    for (int d = 0; d < dimension; d++)
                    {
                        vector[d] += row[d];
                    }
                }
                float norm = 0;
                for (int d = 0; d < dimension; d++)
                {
                    vector[d] /= tokens;
                    norm += vector[d] * vector[d];
                }
                norm = MathF.Sqrt(norm);
                for (int d = 0; d < dimension; d++)
                {
                    vector[d] /= norm;
                }
                result[start + b] = vector;
            }
        }
        return result;
    }

    public void Dispose() => _session.Dispose();
}
