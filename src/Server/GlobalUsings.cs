// The cluster project brings Orleans' implicit usings, and Orleans has an ErrorCode of its own; here the name always
// means the engine's.
global using ErrorCode = VectorStoreDb.Engine.ErrorCode;
