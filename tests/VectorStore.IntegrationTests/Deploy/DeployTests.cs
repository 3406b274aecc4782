using System.Globalization;
using VectorStoreDb.Server.Operations;
using YamlDotNet.RepresentationModel;

namespace VectorStoreDb.IntegrationTests.Deploy;

/// <summary>
/// No container engine runs here, so the deploy/ files are checked statically: they parse, reference what
/// exists, and agree with the server (ports, probe paths, metrics path) and with deploy/README.md.
/// </summary>
public class DeployTests
{
    private static readonly string Root = FindRoot();

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "VectorStore.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("VectorStore.sln not found above the test binaries.");
    }

    private static string Deploy(params string[] parts) => Path.Combine([Root, "deploy", .. parts]);

    private static List<YamlMappingNode> LoadYaml(string path)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(path);
        stream.Load(reader);
        return [.. stream.Documents.Select(d => (YamlMappingNode)d.RootNode)];
    }

    private static YamlNode At(YamlNode node, params string[] path)
    {
        foreach (string key in path)
        {
            node = ((YamlMappingNode)node).Children[new YamlScalarNode(key)];
        }
        return node;
    }

    private static string Scalar(YamlNode node, params string[] path) => ((YamlScalarNode)At(node, path)).Value!;

    [Fact]
    public void Kubernetes_manifest_has_secret_service_statefulset_with_probes_and_secret_wiring()
    {
        var documents = LoadYaml(Deploy("k8s", "vectorstore.yaml"));
        Assert.Equal(["Secret", "Service", "StatefulSet"], documents.Select(d => Scalar(d, "kind")).Order().ToArray());

        var secret = documents.Single(d => Scalar(d, "kind") == "Secret");
        var secretKeys = ((YamlMappingNode)At(secret, "stringData")).Children.Keys.Select(k => ((YamlScalarNode)k).Value).ToHashSet();
        var set = documents.Single(d => Scalar(d, "kind") == "StatefulSet");
        var container = (YamlMappingNode)((YamlSequenceNode)At(set, "spec", "template", "spec", "containers")).Children[0];

        Assert.Equal("/readyz", Scalar(container, "readinessProbe", "httpGet", "path"));
        Assert.Equal("/healthz", Scalar(container, "livenessProbe", "httpGet", "path"));
        var ports = ((YamlSequenceNode)At(container, "ports")).Children.ToDictionary(p => Scalar(p, "name"), p => Scalar(p, "containerPort"));
        Assert.Equal("6333", ports["rest"]);
        Assert.Equal("6334", ports["grpc"]);
        Assert.Equal("rest", Scalar(container, "readinessProbe", "httpGet", "port"));
        Assert.NotNull(At(container, "resources", "requests", "memory"));
        Assert.NotNull(At(container, "resources", "limits", "memory"));
        Assert.Equal("data", Scalar(((YamlSequenceNode)At(set, "spec", "volumeClaimTemplates")).Children[0], "metadata", "name"));

        var env = ((YamlSequenceNode)At(container, "env")).Children.Cast<YamlMappingNode>().ToList();
        var fromSecret = env.Where(e => e.Children.ContainsKey(new YamlScalarNode("valueFrom"))).ToList();
        Assert.Equal(2, fromSecret.Count);
        Assert.All(fromSecret, e =>
        {
            Assert.Equal(Scalar(secret, "metadata", "name"), Scalar(e, "valueFrom", "secretKeyRef", "name"));
            Assert.Contains(Scalar(e, "valueFrom", "secretKeyRef", "key"), secretKeys);
            Assert.Matches(@"^VectorStore__Auth__ApiKeys__\d+__Key$", Scalar(e, "name"));
        });
        Assert.Contains(env, e => Scalar(e, "name") == "VectorStore__DataPath" && Scalar(e, "value") == "/data");
    }

    [Fact]
    public void Compose_file_has_the_four_services_and_every_mounted_file_exists()
    {
        string composeDir = Deploy("compose");
        var compose = LoadYaml(Path.Combine(composeDir, "docker-compose.yml")).Single();
        var services = (YamlMappingNode)At(compose, "services");
        Assert.Equal(["jaeger", "otel-collector", "prometheus", "vectorstore"], services.Children.Keys.Select(k => ((YamlScalarNode)k).Value!).Order().ToArray());

        var build = At(services, "vectorstore", "build");
        string context = Path.GetFullPath(Path.Combine(composeDir, Scalar(build, "context")));
        Assert.Equal(Path.TrimEndingDirectorySeparator(Root), Path.TrimEndingDirectorySeparator(context));
        Assert.True(File.Exists(Path.Combine(context, Scalar(build, "dockerfile"))));
        Assert.Equal("http://otel-collector:4317", Scalar(services, "vectorstore", "environment", "OTEL_EXPORTER_OTLP_ENDPOINT"));

        foreach (var (_, service) in services.Children)
        {
            if (((YamlMappingNode)service).Children.TryGetValue(new YamlScalarNode("volumes"), out var volumes))
            {
                foreach (var volume in ((YamlSequenceNode)volumes).Children.Select(v => ((YamlScalarNode)v).Value!))
                {
                    string source = volume.Split(':')[0];
                    if (source.StartsWith("./", StringComparison.Ordinal))
                    {
                        Assert.True(File.Exists(Path.Combine(composeDir, source)), $"{source} is mounted but missing");
                        LoadYaml(Path.Combine(composeDir, source)); // and parses
                    }
                }
            }
        }

        var prometheus = LoadYaml(Path.Combine(composeDir, "prometheus.yml")).Single();
        var job = ((YamlSequenceNode)At(prometheus, "scrape_configs")).Children.Single(j => Scalar(j, "job_name") == "vectorstore");
        Assert.Equal(OperationsExtensions.MetricsPath, Scalar(job, "metrics_path"));
        Assert.Equal("vectorstore:6333", ((YamlScalarNode)((YamlSequenceNode)At(((YamlSequenceNode)At(job, "static_configs")).Children[0], "targets")).Children[0]).Value);
    }

    [Fact]
    public void Dockerfile_builds_an_existing_project_runs_non_root_and_matches_the_readme()
    {
        string dockerfile = File.ReadAllText(Deploy("Dockerfile"));
        string publish = dockerfile.Split('\n').Single(l => l.StartsWith("RUN dotnet publish ", StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(Root, publish.Split(' ')[3])), publish);
        Assert.Contains("FROM mcr.microsoft.com/dotnet/aspnet:10.0", dockerfile, StringComparison.Ordinal);
        Assert.Contains("\nUSER app\n", dockerfile, StringComparison.Ordinal);
        Assert.Contains("VOLUME [\"/data\"]", dockerfile, StringComparison.Ordinal);
        Assert.Contains("VectorStore__DataPath=/data", dockerfile, StringComparison.Ordinal);
        Assert.Contains("EXPOSE 6333 6334", dockerfile, StringComparison.Ordinal);
        Assert.Contains($"\"{HealthProbe.Switch}\", \"http://127.0.0.1:6333/healthz\"", dockerfile, StringComparison.Ordinal);
        Assert.Contains("CMD [\"--urls\", \"http://0.0.0.0:6333\"]", dockerfile, StringComparison.Ordinal);

        // The README's docker commands are the ones documented in the Dockerfile header.
        var readmeCommands = File.ReadAllLines(Deploy("README.md")).Where(l => l.StartsWith("docker build", StringComparison.Ordinal) || l.StartsWith("docker run", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, readmeCommands.Count);
        Assert.All(readmeCommands, command => Assert.Contains(command, dockerfile, StringComparison.Ordinal));
        Assert.True(File.Exists(Path.Combine(Root, ".dockerignore")));
    }
}

public class HealthProbeTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task Probe_mode_exits_0_on_a_healthy_server_and_1_when_nothing_listens()
    {
        var output = new StringWriter(CultureInfo.InvariantCulture);
        Assert.True(HealthProbe.IsRequested([HealthProbe.Switch]));
        Assert.Equal(0, await HealthProbe.RunAsync([HealthProbe.Switch, new Uri(server.RestAddress, "/healthz").ToString()], output));
        Assert.Equal(1, await HealthProbe.RunAsync([HealthProbe.Switch, "http://127.0.0.1:1/healthz"], output));
    }
}
