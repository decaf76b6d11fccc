// Makes protobufjs read int64 fields as plain numbers instead of Long objects. It has to run
// before ops.js is evaluated, because ops.js computes its default values at load time; so
// index.ts imports this module first.
import $protobuf from "protobufjs/minimal.js";

$protobuf.util.Long = undefined as unknown as typeof $protobuf.util.Long;
$protobuf.configure();
