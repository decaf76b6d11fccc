// The LLB protobuf types. Import them from here, not from ops.js: int64 fields then decode
// as plain numbers (indexes, sizes and timestamps in definitions all fit in 2^53).
import "./int64-as-number.ts";

export { pb } from "./ops.js";
