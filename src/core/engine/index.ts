export { createEngine } from "./engine.ts";
export type { Engine, EngineConfig, EvaluateRequest, ExportRequest, ExportSubject, PlatformDefinition, PlatformSolved, SolveContext, SolveRequest, SolveResponse, SolvedResult } from "./engine.ts";
