export { createEngine } from "./engine.ts";
export type { Engine, EngineConfig, EvaluateRequest, ExportRequest, SolveContext, SolveRequest, SolveResponse, SolvedResult } from "./engine.ts";
