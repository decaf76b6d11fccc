import { BuildkitError } from "../errors.ts";

/** Misuse of the client library (a relative mount path, empty args, …), caught before marshalling. */
export class LLBError extends BuildkitError {
  constructor(message: string) {
    super("InvalidArgument", message);
    this.name = "LLBError";
  }
}
