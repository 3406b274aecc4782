namespace VectorStoreDb.Server.Rest.OpenAi;

/// <summary>
/// A refusal on <c>/v1</c> that needs OpenAI's own <c>code</c> (e.g. <c>model_not_found</c>, <c>unsupported_parameter</c>)
/// besides the status and the parameter; written by <see cref="OpenAiErrorWriter"/> like every other error.
/// </summary>
public sealed class OpenAiRequestException(int status, string message, string? param, string? code) : Exception(message)
{
    public int Status { get; } = status;

    public string? Param { get; } = param;

    public string? Code { get; } = code;

    public static OpenAiRequestException Unsupported(string param, string why) =>
        new(StatusCodes.Status400BadRequest, $"Unsupported parameter: '{param}' {why}", param, "unsupported_parameter");

    public static OpenAiRequestException UnsupportedValue(string param, string why) =>
        new(StatusCodes.Status400BadRequest, $"Unsupported value: '{param}' {why}", param, "unsupported_value");

    public static OpenAiRequestException ModelNotFound(string model, string why) =>
        new(StatusCodes.Status404NotFound, $"The model '{model}' does not exist: {why}", "model", "model_not_found");
}
