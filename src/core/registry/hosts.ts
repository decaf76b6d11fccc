/**
 * Which endpoints serve a registry host, as BuildKit's resolver builds them from buildkitd.toml:
 * for pulls each mirror (`https://MIRROR/v2/<repo>`, settings from the mirror's own section) and
 * then the host itself; pushes go to the host only. docker.io is served by registry-1.docker.io.
 */
import { readFile } from "node:fs/promises";
import { BuildkitError } from "../errors.ts";
import type { RegistryConfig, RegistryHostConfig } from "./config.ts";

export interface TlsSettings {
  readonly ca?: readonly string[];
  readonly cert?: string;
  readonly key?: string;
  readonly rejectUnauthorized?: boolean;
}

export interface RegistryEndpoint {
  /** The host[:port] connected to. */
  readonly host: string;
  readonly scheme: "http" | "https";
  /** "/v2", or "/v2/<prefix>" for a mirror given with a path. */
  readonly path: string;
  readonly tls?: TlsSettings;
  /** insecure TLS with http unset: retry as plain HTTP when the server does not speak TLS. */
  readonly httpFallback: boolean;
  readonly mirror: boolean;
}

export type Operation = "pull" | "push";

const DOCKER_HUB = "docker.io";
const DOCKER_HUB_API = "registry-1.docker.io";

/** localhost, 127.0.0.0/8 and ::1, with or without a port. */
export function isLoopbackHost(host: string): boolean {
  const name = host.startsWith("[") ? host.slice(1, host.indexOf("]")) : host.replace(/:\d+$/, "");
  return name === "localhost" || name === "::1" || /^127(?:\.\d{1,3}){3}$/.test(name);
}

/** Splits a mirror ("host:port", "host/prefix", "https://host") into host and path prefix. */
export function splitMirror(mirror: string): { host: string; prefix: string } {
  const rest = mirror.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "");
  const slash = rest.indexOf("/");
  if (slash < 0) return { host: rest, prefix: "" };
  return { host: rest.slice(0, slash), prefix: rest.slice(slash).replace(/\/+$/, "") };
}

function schemeOf(host: string, c: RegistryHostConfig): "http" | "https" {
  if (c.http === true) return "http";
  if (c.http === false) return "https";
  if (c.insecure === true || (c.ca?.length ?? 0) > 0) return "https";
  return isLoopbackHost(host) ? "http" : "https";
}

async function readPem(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw new BuildkitError("InvalidArgument", `reading ${what} ${path}: ${(err as Error).message}`);
  }
}

export interface HostResolver {
  endpoints(domain: string, op: Operation): Promise<RegistryEndpoint[]>;
}

/** Resolves endpoints from the config; certificate files are read once and kept. */
export function createHostResolver(config: RegistryConfig = {}): HostResolver {
  const pemCache = new Map<string, Promise<string>>();
  const pem = (path: string, what: string): Promise<string> => {
    let p = pemCache.get(path);
    if (!p) {
      p = readPem(path, what);
      pemCache.set(path, p);
      p.catch(() => pemCache.delete(path));
    }
    return p;
  };

  const tlsOf = async (c: RegistryHostConfig): Promise<TlsSettings | undefined> => {
    const extra = await Promise.all((c.ca ?? []).map((f) => pem(f, "CA certificate")));
    const pair = c.keypair?.[0];
    const tls: { -readonly [K in keyof TlsSettings]: TlsSettings[K] } = {};
    // node:tls loads only when a host has its own CAs (~5 ms at start-up otherwise).
    if (extra.length > 0) tls.ca = [...(await import("node:tls")).rootCertificates, ...extra];
    if (pair) {
      tls.cert = await pem(pair.cert, "client certificate");
      tls.key = await pem(pair.key, "client key");
    }
    if (c.insecure === true) tls.rejectUnauthorized = false;
    return Object.keys(tls).length > 0 ? tls : undefined;
  };

  const endpoint = async (host: string, prefix: string, mirror: boolean): Promise<RegistryEndpoint> => {
    const c = config[host] ?? {};
    const scheme = schemeOf(host, c);
    const tls = scheme === "https" ? await tlsOf(c) : undefined;
    const httpFallback = scheme === "https" && c.insecure === true && c.http === undefined;
    const apiHost = host === DOCKER_HUB ? DOCKER_HUB_API : host;
    return { host: apiHost, scheme, path: `/v2${prefix}`, tls, httpFallback, mirror };
  };

  return {
    async endpoints(domain, op) {
      const out: RegistryEndpoint[] = [];
      if (op === "pull") {
        for (const m of config[domain]?.mirrors ?? []) {
          const { host, prefix } = splitMirror(m);
          out.push(await endpoint(host, prefix, true));
        }
      }
      out.push(await endpoint(domain, "", false));
      return out;
    },
  };
}

/** The URL of `<endpoint>/<repo>/<rest>`, e.g. rest = "manifests/latest". */
export function endpointUrl(e: RegistryEndpoint, repoPath: string, rest: string): string {
  return `${e.scheme}://${e.host}${e.path}/${repoPath}/${rest}`;
}
