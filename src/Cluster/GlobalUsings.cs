// Orleans has an ErrorCode of its own; in this project the name always means the engine's.
global using ErrorCode = VectorStoreDb.Engine.ErrorCode;
global using Orleans.Concurrency;
