// containerd's API types (our .proto files, containerd's package names and field numbers).
// Import them from here: int64 fields then decode as plain numbers.
import "../../../core/pb/int64-as-number.ts";

export * as containerdPb from "./containerd.js";
