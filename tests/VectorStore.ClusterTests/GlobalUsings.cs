// Orleans has an ErrorCode of its own; in these tests the name always means the engine's.
global using ErrorCode = VectorStoreDb.Engine.ErrorCode;
