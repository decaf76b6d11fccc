export { createEngine } from "./engine.ts";
export type { Engine, EngineConfig, SolveContext, SolveRequest, SolveResponse } from "./engine.ts";
