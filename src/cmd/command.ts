// defineCommand without loading citty (whose module imports node:util): citty's own is the
// identity, kept only for its types. Commands import it from here.
import type { ArgsDef, CommandDef } from "citty";

export function defineCommand<const T extends ArgsDef = ArgsDef>(def: CommandDef<T>): CommandDef<T> {
  return def;
}
