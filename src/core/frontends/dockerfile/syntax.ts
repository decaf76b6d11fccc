/**
 * The frontend a Dockerfile asks for: BuildKit's parser.DetectSyntax (a `# syntax=REF [ARGS]`
 * directive, or `// syntax=`, after an optional shebang line, or a JSON document's "syntax"
 * key), and its override, build-arg:BUILDKIT_SYNTAX.
 */
import { parseImageRef, repositoryOf } from "../../reference/docker-ref.ts";

const SYNTAX_ARG = "build-arg:BUILDKIT_SYNTAX";

export interface SyntaxRequest {
  /** The frontend image. */
  readonly ref: string;
  /** The whole directive value (the image and its arguments), passed on as `cmdline`. */
  readonly cmdline: string;
}

/** The directive's image and whole value; undefined when the Dockerfile names none. */
export function detectSyntax(text: string): SyntaxRequest | undefined {
  const body = text.startsWith("#!") ? text.slice(text.indexOf("\n") + 1 || text.length) : text;
  for (const comment of ["#", "//"]) {
    const found = directiveSyntax(body, comment);
    if (found) return found;
  }
  try {
    const doc: unknown = JSON.parse(body);
    const syntax = typeof doc === "object" && doc !== null ? (doc as { syntax?: unknown }).syntax : undefined;
    if (typeof syntax === "string" && syntax !== "") return { ref: syntax, cmdline: syntax };
  } catch {
    // not JSON
  }
  return undefined;
}

/** The leading directives with this comment prefix, up to the first line that is not one. */
function directiveSyntax(body: string, comment: string): SyntaxRequest | undefined {
  const re = new RegExp(`^${comment}\\s*([a-zA-Z][a-zA-Z0-9]*)\\s*=\\s*(.+?)\\s*$`);
  const seen = new Set<string>();
  for (const line of body.split("\n")) {
    const m = re.exec(line.replace(/\r$/, ""));
    if (!m) return undefined;
    const key = m[1]!.toLowerCase();
    if (key !== "syntax" && key !== "escape") return undefined;
    // A repeated directive is an error the parser reports later; BuildKit stops looking here.
    if (seen.has(key)) return undefined;
    seen.add(key);
    if (key === "syntax") return { ref: m[2]!.split(" ")[0]!, cmdline: m[2]! };
  }
  return undefined;
}

/**
 * The frontend this build should be handed to, as BuildKit's Dockerfile frontend decides:
 * none when `cmdline` is set (it is the forwarded frontend's own run), BUILDKIT_SYNTAX first,
 * then the directive.
 *
 * Where we differ: docker/dockerfile and docker/dockerfile-upstream (the official images, at any
 * tag) are served by this built-in frontend instead of being pulled from Docker Hub, so that a
 * Dockerfile starting with the ubiquitous `# syntax=docker/dockerfile:1` builds on a host with
 * no access to Docker Hub; any other image runs as a gateway frontend.
 */
export function syntaxForward(opts: Readonly<Record<string, string>>, dockerfile: string): SyntaxRequest | undefined {
  if (Object.hasOwn(opts, "cmdline")) return undefined;
  const arg = opts[SYNTAX_ARG];
  const asked = arg !== undefined ? { ref: arg.trim().split(" ")[0] ?? "", cmdline: arg } : detectSyntax(dockerfile);
  if (!asked || isBuiltinSyntax(asked.ref)) return undefined;
  return asked;
}

function isBuiltinSyntax(ref: string): boolean {
  try {
    const repo = repositoryOf(parseImageRef(ref));
    return repo === "docker.io/docker/dockerfile" || repo === "docker.io/docker/dockerfile-upstream";
  } catch {
    return false;
  }
}
