// The /etc/hosts and /etc/resolv.conf a container gets, written beside its bundle and bind-mounted
// read-only. Network modes: "host" and "sandbox" share the host's network (sandbox as BuildKit's
// OCI worker without a CNI network does), so they get the host's resolv.conf as is; "none" gets
// a new network namespace with only loopback, and the host's resolv.conf minus loopback
// nameservers (unreachable from another namespace), falling back to public resolvers like
// BuildKit. Every mode gets BuildKit's generated hosts file (its hostname, extra hosts).
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { ProcessMeta } from "../../../core/worker/executor.ts";

export const DEFAULT_HOSTNAME = "buildkitsandbox";
const HOST_RESOLV_CONF = "/etc/resolv.conf";
const FALLBACK_NAMESERVERS = ["8.8.8.8", "8.8.4.4"];

/** BuildKit's hosts file: localhost names, the hostname on 127.0.0.1, then extra hosts. */
export function hostsFile(hostname: string, extraHosts: ProcessMeta["extraHosts"] = []): string {
  const lines = [`127.0.0.1\tlocalhost ${hostname}`, "::1\tlocalhost ip6-localhost ip6-loopback"];
  for (const { host, ip } of extraHosts) lines.push(`${ip}\t${host}`);
  return `${lines.join("\n")}\n`;
}

function isLoopbackNameserver(line: string): boolean {
  const match = /^\s*nameserver\s+(\S+)/.exec(line);
  const address = match?.[1];
  return address !== undefined && (address.startsWith("127.") || address === "::1");
}

/** The host's resolv.conf for a container in its own network namespace (network "none"). */
export function isolatedResolvConf(host: string): string {
  const lines = host.split("\n").filter((line) => !isLoopbackNameserver(line));
  if (!lines.some((line) => /^\s*nameserver\s/.test(line))) {
    for (const ns of FALLBACK_NAMESERVERS) lines.push(`nameserver ${ns}`);
  }
  return `${lines.join("\n").trimEnd()}\n`;
}

function readHostResolvConf(): string {
  try {
    return readFileSync(HOST_RESOLV_CONF, "utf8");
  } catch {
    return "";
  }
}

export interface NetworkFiles {
  readonly hosts: string;
  readonly resolvConf: string;
}

/**
 * Writes hosts and resolv.conf for meta into dir; returns their paths. Synchronous: two small
 * files per step, where the promise forms cost a thread-pool round trip each.
 */
export function writeNetworkFiles(dir: string, meta: ProcessMeta): NetworkFiles {
  const files = { hosts: join(dir, "hosts"), resolvConf: join(dir, "resolv.conf") };
  const host = readHostResolvConf();
  const resolvConf = meta.network === "none" ? isolatedResolvConf(host) : host;
  writeFileSync(files.hosts, hostsFile(meta.hostname || DEFAULT_HOSTNAME, meta.extraHosts));
  writeFileSync(files.resolvConf, resolvConf);
  return files;
}
