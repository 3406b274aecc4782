using System.Globalization;
using Grpc.Core;
using Microsoft.Extensions.AI;
using VectorStoreDb.Client;
using VectorStoreDb.Client.Embedded;
using VectorStoreDb.Engine;
using RagCitation = VectorStoreDb.Rag.Citation;

namespace VectorStoreDb.Cli;

/// <summary>
/// <c>vectorstore chat</c>: asks the RAG endpoint through the SDK's streaming <see cref="IChatClient"/> (remote:
/// <see cref="VectorStoreChatClient"/>; embedded: <see cref="EmbeddedChatExtensions.AsChatClient"/>), writes the
/// tokens as they arrive, then the passages the answer cites.
/// </summary>
internal sealed class ChatRunner(IChatClient chat, ChatOptions options, TextWriter output)
{
    /// <summary>Answers one question; returns the number of citations.</summary>
    public async Task<int> AskAsync(string question, CancellationToken cancellationToken)
    {
        var citations = new List<(int Index, string DocumentId, int Chunk, float Score)>();
        try
        {
            await foreach (var update in chat.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, question)], options, cancellationToken))
            {
                if (update.AdditionalProperties?.TryGetValue("citations", out object? value) == true)
                {
                    // The remote and the embedded clients carry the same fields in their own record types.
                    switch (value)
                    {
                        case IEnumerable<ChatCitation> remote:
                            citations.AddRange(remote.Select(c => (c.Index, c.DocumentId, c.Chunk, c.Score)));
                            break;
                        case IEnumerable<RagCitation> local:
                            citations.AddRange(local.Select(c => (c.Index, c.DocumentId, c.Chunk, c.Score)));
                            break;
                    }
                }
                if (!string.IsNullOrEmpty(update.Text))
                {
                    await output.WriteAsync(update.Text);
                    await output.FlushAsync(cancellationToken);
                }
            }
        }
        catch (RpcException e)
        {
            throw VectorStoreGrpcClient.ToClientException(e);
        }
        catch (VectorStoreException e)
        {
            throw EmbeddedVectorStore.ToClientException(e);
        }
        await output.WriteLineAsync();
        if (citations.Count > 0)
        {
            await output.WriteLineAsync();
            foreach (var c in citations)
            {
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"[{c.Index}] {c.DocumentId}  chunk {c.Chunk}  score {c.Score:F4}"));
            }
        }
        return citations.Count;
    }

    /// <summary>Answers each non-empty line of <paramref name="input"/> until it ends; returns the number of questions.</summary>
    public async Task<int> LoopAsync(TextReader input, bool prompt, CancellationToken cancellationToken)
    {
        int asked = 0;
        while (true)
        {
            if (prompt)
            {
                await output.WriteAsync("> ");
                await output.FlushAsync(cancellationToken);
            }
            string? line = await input.ReadLineAsync(cancellationToken);
            if (line is null)
            {
                return asked;
            }
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            await AskAsync(line.Trim(), cancellationToken);
            await output.WriteLineAsync();
            asked++;
        }
    }
}
