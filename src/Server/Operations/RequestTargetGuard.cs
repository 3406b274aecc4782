using System.Text;
using Grpc.Core;
using Microsoft.AspNetCore.Http.Features;

namespace VectorStoreDb.Server.Operations;

/// <summary>
/// Refuses, before routing, request targets whose path would not reach the route its client wrote: dot segments
/// (<c>.</c>, <c>..</c>, raw or percent-encoded in any case mix), which Kestrel resolves away so that
/// <c>DELETE /collections/c/snapshots/..</c> would reach <c>DELETE /collections/c</c>; and segments that decode to a
/// slash, a backslash, a control character or bytes that are not UTF-8, since every such segment here carries a
/// name or an id. Reads the raw target because <see cref="HttpRequest.Path"/> is already normalised.
/// </summary>
public static class RequestTargetGuard
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public static IApplicationBuilder UseRequestTargetGuard(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        string raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? context.Request.Path.Value ?? "";
        if (Check(raw) is { } problem)
        {
            await Refusal.WriteAsync(context, StatusCodes.Status400BadRequest, StatusCode.InvalidArgument, "Invalid request target", problem);
            return;
        }
        await next(context);
    });

    /// <summary>Why the request target is refused, or null when every path segment is acceptable.</summary>
    public static string? Check(string rawTarget)
    {
        string path = PathOf(rawTarget);
        foreach (string segment in path.Split('/'))
        {
            if (segment.Length == 0)
            {
                continue;
            }
            if (Decode(segment) is not { } decoded)
            {
                return $"path segment '{Printable(segment)}' is not valid percent-encoded UTF-8.";
            }
            if (decoded is "." or "..")
            {
                return $"path segment '{Printable(segment)}' is a dot segment: '.' and '..' are not names; write the path of the resource itself.";
            }
            if (decoded.AsSpan().IndexOfAny('/', '\\') >= 0)
            {
                return $"path segment '{Printable(segment)}' holds an encoded '/' or '\\': names and ids cannot contain them.";
            }
            foreach (char c in decoded)
            {
                if (char.IsControl(c))
                {
                    return $"path segment '{Printable(segment)}' holds a control character (U+{(int)c:X4}): names and ids cannot contain them.";
                }
            }
        }
        return null;
    }

    // Origin form ("/a/b?q") or absolute form ("http://host/a/b?q"); "*" (OPTIONS) has no path.
    private static string PathOf(string target)
    {
        int end = target.AsSpan().IndexOfAny('?', '#');
        string path = end >= 0 ? target[..end] : target;
        int scheme = path.IndexOf("://", StringComparison.Ordinal);
        if (scheme > 0 && !path.StartsWith('/'))
        {
            int slash = path.IndexOf('/', scheme + 3);
            path = slash >= 0 ? path[slash..] : "/";
        }
        return path;
    }

    private static string? Decode(string segment)
    {
        if (!segment.Contains('%'))
        {
            return segment.AsSpan().ContainsAnyInRange('\uD800', '\uDFFF') && !IsWellFormed(segment) ? null : segment;
        }
        // Kestrel may hand non-ASCII target bytes over already decoded: re-encode those, percent-decode the rest.
        var bytes = new byte[segment.Length * 3];
        int length = 0;
        for (int i = 0; i < segment.Length; i++)
        {
            char c = segment[i];
            if (c == '%')
            {
                if (i + 2 >= segment.Length || !char.IsAsciiHexDigit(segment[i + 1]) || !char.IsAsciiHexDigit(segment[i + 2]))
                {
                    return null;
                }
                bytes[length++] = (byte)((HexValue(segment[i + 1]) << 4) | HexValue(segment[i + 2]));
                i += 2;
            }
            else if (c <= 0x7F)
            {
                bytes[length++] = (byte)c;
            }
            else
            {
                int width = char.IsHighSurrogate(c) && i + 1 < segment.Length && char.IsLowSurrogate(segment[i + 1]) ? 2 : 1;
                if (char.IsSurrogate(c) && width == 1)
                {
                    return null;
                }
                length += StrictUtf8.GetBytes(segment.AsSpan(i, width), bytes.AsSpan(length));
                i += width - 1;
            }
        }
        try
        {
            return StrictUtf8.GetString(bytes, 0, length);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    private static bool IsWellFormed(string s)
    {
        for (int i = 0; i < s.Length; i++)
        {
            if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(s[i]))
            {
                return false;
            }
        }
        return true;
    }

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    private static string Printable(string segment) =>
        segment.Length > 64 ? string.Concat(Escape(segment[..64]), "…") : Escape(segment);

    private static string Escape(string s) => string.Create(s.Length, s, (span, source) =>
    {
        for (int i = 0; i < source.Length; i++)
        {
            span[i] = source[i] is >= ' ' and < (char)0x7F ? source[i] : '?';
        }
    });
}
