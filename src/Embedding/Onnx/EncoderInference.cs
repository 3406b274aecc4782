using System.Buffers;
using Microsoft.ML.OnnxRuntime;
using VectorStoreDb.Index;

namespace VectorStoreDb.Embedding.Onnx;

/// <summary>
/// Runs padded batches of token sequences through an <see cref="OnnxEncoderModel"/> and pools the token states into
/// one vector per sequence (mean over the attention mask, or CLS), L2-normalised when the model says so. Input
/// buffers are pooled; one instance serves one run at a time (the batcher's gate guarantees it).
/// </summary>
internal sealed class EncoderInference
{
    private readonly OnnxEncoderModel _model;
    private long _runs;

    public EncoderInference(OnnxEncoderModel model)
    {
        _model = model;
        // The start-up test run: a graph that loads but cannot run fails here rather than at the first request, and
        // a dynamic hidden size is learnt from what it returns.
        using (Run([[model.Tokenizer.ClsId, model.Tokenizer.SepId]], 1, 2, out int hidden))
        {
            Dimension = hidden;
        }
    }

    public int Dimension { get; }

    /// <summary>Inference runs so far (one per micro-batch).</summary>
    public long Runs => Interlocked.Read(ref _runs);

    /// <summary>Runs one batch padded to <paramref name="maxLength"/> and pools it into one vector per sequence.</summary>
    public float[][] Infer(int[][] sequences, int maxLength)
    {
        using var run = Run(sequences, sequences.Length, maxLength, out int hidden);
        Interlocked.Increment(ref _runs);
        var output = run.Output;
        var settings = _model.Settings;
        var result = new float[sequences.Length][];
        for (int b = 0; b < sequences.Length; b++)
        {
            var vector = new float[hidden];
            if (_model.OutputIsPooled)
            {
                output.Slice(b * hidden, hidden).CopyTo(vector);
            }
            else if (settings.Pooling == EncoderPooling.Cls)
            {
                output.Slice(b * maxLength * hidden, hidden).CopyTo(vector);
            }
            else
            {
                // Mean over real tokens only: padded positions carry states too and must not leak in.
                int length = sequences[b].Length;
                var states = output.Slice(b * maxLength * hidden, length * hidden);
                for (int t = 0; t < length; t++)
                {
                    var row = states.Slice(t * hidden, hidden);
                    for (int h = 0; h < hidden; h++)
                    {
                        vector[h] += row[h];
                    }
                }
                float inv = 1f / length;
                for (int h = 0; h < hidden; h++)
                {
                    vector[h] *= inv;
                }
            }
            if (settings.Normalize)
            {
                VectorKernels.NormalizeInPlace(vector);
            }
            result[b] = vector;
        }
        return result;
    }

    /// <summary>Fills pooled input buffers, runs the session and returns the output (valid until disposed).</summary>
    private RunResult Run(int[][] sequences, int batch, int maxLength, out int hidden)
    {
        int cells = batch * maxLength;
        long[] ids = ArrayPool<long>.Shared.Rent(cells);
        long[] mask = ArrayPool<long>.Shared.Rent(cells);
        long[] types = ArrayPool<long>.Shared.Rent(cells);
        var inputs = new OrtValue[_model.InputNames.Length];
        try
        {
            Array.Fill(ids, _model.Tokenizer.PadId, 0, cells);
            Array.Clear(mask, 0, cells);
            Array.Clear(types, 0, cells);
            for (int b = 0; b < batch; b++)
            {
                var seq = sequences[b];
                int offset = b * maxLength;
                for (int t = 0; t < seq.Length; t++)
                {
                    ids[offset + t] = seq[t];
                    mask[offset + t] = 1;
                }
            }
            long[] shape = [batch, maxLength];
            var memoryInfo = OrtMemoryInfo.DefaultInstance;
            inputs[_model.IdsInput] = OrtValue.CreateTensorValueFromMemory(memoryInfo, ids.AsMemory(0, cells), shape);
            if (_model.MaskInput >= 0)
            {
                inputs[_model.MaskInput] = OrtValue.CreateTensorValueFromMemory(memoryInfo, mask.AsMemory(0, cells), shape);
            }
            if (_model.TypesInput >= 0)
            {
                inputs[_model.TypesInput] = OrtValue.CreateTensorValueFromMemory(memoryInfo, types.AsMemory(0, cells), shape);
            }
            using var runOptions = new RunOptions();
            var outputs = _model.Session.Run(runOptions, _model.InputNames, inputs, [_model.OutputName]);
            var tensorShape = outputs[0].GetTensorTypeAndShape().Shape;
            hidden = (int)tensorShape[^1];
            return new RunResult(outputs, [ids, mask, types]);
        }
        catch
        {
            ArrayPool<long>.Shared.Return(ids);
            ArrayPool<long>.Shared.Return(mask);
            ArrayPool<long>.Shared.Return(types);
            throw;
        }
        finally
        {
            foreach (var input in inputs)
            {
                input?.Dispose();
            }
        }
    }

    private sealed class RunResult(IDisposableReadOnlyCollection<OrtValue> outputs, long[][] buffers) : IDisposable
    {
        public ReadOnlySpan<float> Output => outputs[0].GetTensorDataAsSpan<float>();

        public void Dispose()
        {
            outputs.Dispose();
            foreach (var buffer in buffers)
            {
                ArrayPool<long>.Shared.Return(buffer);
            }
        }
    }
}
