using VectorStoreDb.Server;
using VectorStoreDb.Server.Operations;

if (HealthProbe.IsRequested(args))
{
    return await HealthProbe.RunAsync(args);
}
var app = VectorStoreServer.Build(args);
await app.RunAsync();
return 0;
