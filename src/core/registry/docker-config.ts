/**
 * Registry credentials from Docker's config.json (`$DOCKER_CONFIG/config.json`, else
 * `~/.docker/config.json`): the `auths` map, with a base64 `auth` or `username`/`password`, and
 * `identitytoken` (an OAuth refresh token), and credential helpers as the docker CLI runs them:
 * `credHelpers[host]`, else `credsStore`, is the program `docker-credential-NAME`, asked with
 * `get` and the server on stdin; what it does not know falls back to `auths`.
 */
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { BuildkitError } from "../errors.ts";

export interface Credentials {
  readonly username: string;
  readonly password: string;
  /** An OAuth2 refresh token, exchanged at the token endpoint instead of the password. */
  readonly identityToken?: string;
}

export interface CredentialStore {
  /** Credentials for a registry host ("127.0.0.1:5000", "docker.io"), or undefined. */
  get(host: string): Promise<Credentials | undefined>;
}

export type DebugLog = (message: string) => void;

const DOCKER_HUB_KEYS = new Set(["docker.io", "index.docker.io", "registry-1.docker.io"]);

/** The key a host's credentials are filed under: scheme and path dropped, Docker Hub's aliases merged. */
export function credentialKey(hostOrUrl: string): string {
  const host = hostOrUrl.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "").split("/")[0] ?? "";
  return DOCKER_HUB_KEYS.has(host) ? "index.docker.io" : host;
}

function decodeAuth(auth: string, where: string): { username: string; password: string } {
  const text = Buffer.from(auth, "base64").toString("utf8");
  const colon = text.indexOf(":");
  if (colon < 0) throw new BuildkitError("InvalidArgument", `reading ${where}: "auth" is not base64 of user:password`);
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

function entryCredentials(entry: Record<string, unknown>, where: string): Credentials | undefined {
  const str = (k: string): string | undefined => (typeof entry[k] === "string" && entry[k] !== "" ? (entry[k] as string) : undefined);
  const auth = str("auth");
  const base = auth ? decodeAuth(auth, where) : { username: str("username") ?? "", password: str("password") ?? "" };
  const identityToken = str("identitytoken");
  if (!base.username && !base.password && !identityToken) return undefined;
  return identityToken ? { ...base, identityToken } : base;
}

/** Parses config.json text; `source` names the file in errors and notes. */
export function parseDockerConfig(text: string, source: string, debug?: DebugLog): CredentialStore {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new BuildkitError("InvalidArgument", `reading docker config ${source}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (typeof json !== "object" || json === null) throw new BuildkitError("InvalidArgument", `reading docker config ${source}: not a JSON object`);
  const doc = json as Record<string, unknown>;
  const store = typeof doc.credsStore === "string" && doc.credsStore !== "" ? doc.credsStore : undefined;
  const helpers = new Map<string, string>();
  if (typeof doc.credHelpers === "object" && doc.credHelpers !== null) {
    for (const [host, name] of Object.entries(doc.credHelpers)) if (typeof name === "string" && name !== "") helpers.set(credentialKey(host), name);
  }
  const byHost = new Map<string, Credentials>();
  const auths = typeof doc.auths === "object" && doc.auths !== null ? (doc.auths as Record<string, unknown>) : {};
  for (const [key, entry] of Object.entries(auths)) {
    if (typeof entry !== "object" || entry === null) continue;
    const creds = entryCredentials(entry as Record<string, unknown>, `docker config ${source} (${key})`);
    if (creds) byHost.set(credentialKey(key), creds);
  }
  const asked = new Map<string, Promise<Credentials | undefined>>();
  return {
    get(host) {
      const key = credentialKey(host);
      const helper = helpers.get(key) ?? store;
      if (helper === undefined) return Promise.resolve(byHost.get(key));
      let answer = asked.get(key);
      if (answer === undefined) {
        answer = runCredentialHelper(helper, key, debug).then((creds) => creds ?? byHost.get(key));
        asked.set(key, answer);
      }
      return answer;
    },
  };
}

const HELPER_TIMEOUT_MS = 30_000;

/** The server name a helper is asked about: Docker Hub's historical URL, else the host. */
function helperServer(key: string): string {
  return key === "index.docker.io" ? "https://index.docker.io/v1/" : key;
}

/**
 * Asks `docker-credential-NAME get` for a host's credentials. "Not found" (or a helper that is
 * not installed) is undefined; a helper that fails otherwise is an error naming it.
 */
export async function runCredentialHelper(name: string, key: string, debug?: DebugLog): Promise<Credentials | undefined> {
  const program = `docker-credential-${name}`;
  const path = Bun.which(program, { PATH: process.env.PATH ?? "" });
  if (path === null) {
    debug?.(`credential helper ${program} for ${key} is not installed; using "auths"`);
    return undefined;
  }
  const proc = Bun.spawn([path, "get"], { stdin: new Blob([helperServer(key)]), stdout: "pipe", stderr: "pipe", timeout: HELPER_TIMEOUT_MS });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) {
    const message = (out.trim() || err.trim()).split("\n")[0] ?? "";
    if (/credentials not found/i.test(message)) return undefined;
    throw new BuildkitError("FailedPrecondition", `credential helper ${program} for ${key}: ${message || `exit code ${code}`}`);
  }
  let answer: { Username?: unknown; Secret?: unknown };
  try {
    answer = JSON.parse(out) as typeof answer;
  } catch {
    throw new BuildkitError("FailedPrecondition", `credential helper ${program} for ${key}: output is not JSON`);
  }
  const username = typeof answer.Username === "string" ? answer.Username : "";
  const secret = typeof answer.Secret === "string" ? answer.Secret : "";
  if (username === "" && secret === "") return undefined;
  // "<token>" as the user name marks an identity (refresh) token, as in the docker CLI.
  return username === "<token>" ? { username: "", password: "", identityToken: secret } : { username, password: secret };
}

/** The directory holding config.json: the option, else $DOCKER_CONFIG, else ~/.docker. */
export function dockerConfigDir(explicit?: string): string {
  return explicit ?? process.env.DOCKER_CONFIG ?? join(homedir(), ".docker");
}

/** Loads config.json from the directory; a missing file is an empty store. */
export async function loadDockerConfig(dir?: string, debug?: DebugLog): Promise<CredentialStore> {
  const file = join(dockerConfigDir(dir), "config.json");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      debug?.(`docker config ${file}: not found, no registry credentials`);
      return { get: async () => undefined };
    }
    throw new BuildkitError("FailedPrecondition", `reading docker config ${file}: ${(err as Error).message}`);
  }
  return parseDockerConfig(text, file, debug);
}
