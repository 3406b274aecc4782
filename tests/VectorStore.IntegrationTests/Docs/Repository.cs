using System.Text;
using System.Text.RegularExpressions;

namespace VectorStoreDb.IntegrationTests.Docs;

/// <summary>The repository's files as a reader sees them: the README, docs/, and the commands they show.</summary>
internal static partial class Repository
{
    public static string Root { get; } = FindRoot();

    public static string File(params string[] parts) => Path.Combine([Root, .. parts]);

    /// <summary>The commands of the fenced bash blocks between <c>&lt;!-- quickstart:start --&gt;</c> and <c>&lt;!-- quickstart:end --&gt;</c>.</summary>
    public static List<string> QuickstartCommands(string markdown)
    {
        var section = Quickstart().Match(markdown);
        Assert.True(section.Success, "README.md has no <!-- quickstart:start --> … <!-- quickstart:end --> section");
        var commands = new List<string>();
        foreach (Match block in BashBlock().Matches(section.Groups[1].Value))
        {
            commands.AddRange(SplitCommands(block.Groups[1].Value));
        }
        Assert.NotEmpty(commands);
        return commands;
    }

    /// <summary>
    /// One command per unindented line; indented lines and lines after a trailing backslash continue it (a JSON body
    /// spread over lines). Comments and blank lines are left out.
    /// </summary>
    public static IEnumerable<string> SplitCommands(string script)
    {
        var current = new StringBuilder();
        bool continues = false;
        foreach (string line in script.Split('\n'))
        {
            bool starts = line.Length > 0 && !char.IsWhiteSpace(line[0]) && !continues;
            if ((starts || line.Length == 0) && current.Length > 0)
            {
                yield return current.ToString().TrimEnd();
                current.Clear();
            }
            if (line.Length == 0 || (starts && line.StartsWith('#')))
            {
                continues = false;
                continue;
            }
            current.Append(line).Append('\n');
            continues = line.EndsWith('\\');
        }
        if (current.Length > 0)
        {
            yield return current.ToString().TrimEnd();
        }
    }

    public static string? OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program))
            .FirstOrDefault(System.IO.File.Exists);

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !System.IO.File.Exists(Path.Combine(dir.FullName, "VectorStore.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("VectorStore.sln not found above the test binaries.");
    }

    [GeneratedRegex(@"<!-- quickstart:start -->(.*?)<!-- quickstart:end -->", RegexOptions.Singleline)]
    private static partial Regex Quickstart();

    [GeneratedRegex(@"^```bash\n(.*?)^```", RegexOptions.Singleline | RegexOptions.Multiline)]
    private static partial Regex BashBlock();
}
