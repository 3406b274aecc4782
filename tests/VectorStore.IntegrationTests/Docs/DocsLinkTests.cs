using System.Text;
using System.Text.RegularExpressions;

namespace VectorStoreDb.IntegrationTests.Docs;

/// <summary>Every relative link in README.md and docs/ lands on a file that exists and, with an anchor, on a heading it has.</summary>
public sealed partial class DocsLinkTests
{
    /// <summary>Pages other branches of the same change add; linked already so the index is complete when they land.</summary>
    private static readonly HashSet<string> WrittenElsewhere =
    [
        "docs/contributors/on-disk-format.md",
        "docs/contributors/adding-an-api-field.md",
        "docs/operations/security.md",
    ];

    [Fact]
    public void Relative_links_and_anchors_resolve()
    {
        var pages = Directory.EnumerateFiles(Repository.File("docs"), "*.md", SearchOption.AllDirectories)
            .Append(Repository.File("README.md")).Append(Repository.File("deploy", "README.md"));
        var broken = new List<string>();
        foreach (string page in pages)
        {
            foreach (Match link in Link().Matches(WithoutCode(File.ReadAllText(page))))
            {
                string target = link.Groups[1].Value;
                if (target.Contains("://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal))
                {
                    continue;
                }
                string[] parts = target.Split('#', 2);
                string file = parts[0].Length == 0 ? page : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(page)!, parts[0]));
                string relative = Path.GetRelativePath(Repository.Root, file).Replace('\\', '/');
                if (WrittenElsewhere.Contains(relative) && !File.Exists(file))
                {
                    continue;
                }
                if (!File.Exists(file) && !Directory.Exists(file))
                {
                    broken.Add($"{Path.GetRelativePath(Repository.Root, page)}: {target} (no such file)");
                }
                else if (parts.Length == 2 && file.EndsWith(".md", StringComparison.Ordinal) && !Anchors(File.ReadAllText(file)).Contains(parts[1]))
                {
                    broken.Add($"{Path.GetRelativePath(Repository.Root, page)}: {target} (no such heading)");
                }
            }
        }
        Assert.True(broken.Count == 0, "Broken links:\n" + string.Join('\n', broken));
    }

    /// <summary>GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered.</summary>
    private static HashSet<string> Anchors(string markdown)
    {
        var anchors = new HashSet<string>();
        foreach (Match heading in Heading().Matches(Fence().Replace(markdown, "")))
        {
            var slug = new StringBuilder();
            foreach (char c in heading.Groups[1].Value.Trim().ToLowerInvariant())
            {
                if (char.IsLetterOrDigit(c) || c is '-' or '_')
                {
                    slug.Append(c);
                }
                else if (c == ' ')
                {
                    slug.Append('-');
                }
            }
            string anchor = slug.ToString();
            for (int n = 1; !anchors.Add(anchor); n++)
            {
                anchor = $"{slug}-{n}";
            }
        }
        return anchors;
    }

    private static string WithoutCode(string markdown) => InlineCode().Replace(Fence().Replace(markdown, ""), "");

    [GeneratedRegex(@"\]\(([^)\s]+)\)")]
    private static partial Regex Link();

    [GeneratedRegex(@"^#{1,6} (.+)$", RegexOptions.Multiline)]
    private static partial Regex Heading();

    [GeneratedRegex(@"^```.*?^```", RegexOptions.Singleline | RegexOptions.Multiline)]
    private static partial Regex Fence();

    [GeneratedRegex(@"`[^`\n]*`")]
    private static partial Regex InlineCode();
}
