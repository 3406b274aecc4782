using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using VectorStoreDb.Rag;
using VectorStoreDb.Server.Operations;
using VectorStoreDb.Wire;
using V1 = VectorStoreDb.Contracts.V1;

namespace VectorStoreDb.Server.Grpc;

/// <summary>gRPC RAG chat: server-streaming citations, token deltas and a final done event. Cancelling the call cancels generation.</summary>
internal sealed class RagGrpcService(RagService rag) : V1.Rag.RagBase
{
    [Authorize(Policy = ApiKeyRoles.Read)]
    public override async Task Chat(V1.ChatRequest request, IServerStreamWriter<V1.ChatEvent> responseStream, ServerCallContext context)
    {
        var ragRequest = new RagRequest
        {
            Question = request.HasQuestion ? request.Question : null,
            Messages = request.Messages.Count > 0 ? [.. request.Messages.Select(m => new RagMessage(m.Role, m.Content))] : null,
            K = request.HasK ? request.K : null,
            Filter = EngineMapping.FilterFromStruct(request.Filter),
            MaxTokens = request.HasMaxTokens ? request.MaxTokens : null,
            Temperature = request.HasTemperature ? request.Temperature : null,
            TopK = request.HasTopK ? request.TopK : null,
            TopP = request.HasTopP ? request.TopP : null,
            RepetitionPenalty = request.HasRepetitionPenalty ? request.RepetitionPenalty : null,
            Seed = request.HasSeed ? request.Seed : null,
            Stop = request.Stop.Count > 0 ? [.. request.Stop] : null,
            Generator = request.HasGenerator ? request.Generator : null,
            Debug = request.Debug,
            IgnoreEos = request.IgnoreEos,
        };
        await foreach (var e in rag.ChatStreamAsync(request.Collection, ragRequest, context.CancellationToken))
        {
            var message = new V1.ChatEvent();
            switch (e)
            {
                case RagCitationsEvent c:
                    message.Citations = new V1.ChatCitations { Generator = c.Generator };
                    message.Citations.Citations.Add(c.Citations.Select(x => new V1.Citation { Index = x.Index, DocumentId = x.DocumentId, Chunk = x.Chunk, Score = x.Score, Text = x.Text }));
                    break;
                case RagTokenEvent t:
                    message.Token = t.Text;
                    break;
                case RagDoneEvent d:
                    message.Done = new V1.ChatDone
                    {
                        Usage = new V1.ChatUsage { PromptTokens = d.Usage.PromptTokens, CompletionTokens = d.Usage.CompletionTokens, TotalTokens = d.Usage.TotalTokens },
                        Timings = new V1.ChatTimings
                        {
                            RetrievalMs = d.Timings.RetrievalMs,
                            QueueMs = d.Timings.QueueMs,
                            TimeToFirstTokenMs = d.Timings.TimeToFirstTokenMs,
                            GenerationMs = d.Timings.GenerationMs,
                            TotalMs = d.Timings.TotalMs,
                            TokensPerSecond = d.Timings.TokensPerSecond,
                        },
                        FinishReason = d.FinishReason,
                        Generator = d.Generator,
                    };
                    if (d.Prompt is not null)
                    {
                        message.Done.Prompt = d.Prompt;
                    }
                    break;
                default:
                    continue;
            }
            await responseStream.WriteAsync(message, context.CancellationToken);
        }
    }

    [Authorize(Policy = ApiKeyRoles.Read)]
    public override Task<V1.ListGeneratorsResponse> ListGenerators(V1.ListGeneratorsRequest request, ServerCallContext context)
    {
        var response = new V1.ListGeneratorsResponse();
        foreach (var g in rag.Generators.List())
        {
            var info = new V1.GeneratorInfo { Name = g.Name, Kind = g.Kind, MaxConcurrent = g.MaxConcurrent, QueueLimit = g.QueueLimit, IsDefault = g.IsDefault };
            if (g.ContextWindow is { } window)
            {
                info.ContextWindow = window;
            }
            response.Generators.Add(info);
        }
        return Task.FromResult(response);
    }
}
