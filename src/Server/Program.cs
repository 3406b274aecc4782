using VectorStore.Server;

var app = VectorStoreServer.Build(args);
await app.RunAsync();
