/** The image config a Dockerfile produces (OCI image config JSON, Docker's extra fields). */
import type { Platform } from "../../llb/index.ts";
import type { Health } from "./instructions.ts";

export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const HISTORY_COMMENT = "buildkit.dockerfile.v0";

export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  ArgsEscaped?: boolean;
  OnBuild?: string[] | null;
  Shell?: string[];
  Healthcheck?: Health;
}

export interface History {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface DockerfileImage {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  variant?: string;
  config: ContainerConfig;
  rootfs: { type: string; diff_ids: string[] | null };
  history?: History[];
}

export function emptyImage(p: Platform): DockerfileImage {
  return {
    architecture: p.architecture,
    os: p.os,
    ...(p.variant ? { variant: p.variant } : {}),
    rootfs: { type: "layers", diff_ids: null },
    config: { Env: [`PATH=${DEFAULT_PATH}`], WorkingDir: "/" },
  };
}

/** The image with every time later than epoch (RFC 3339), or missing from history, set to epoch (Go's clampTimes). */
export function clampTimes(img: DockerfileImage, epoch: string | undefined): DockerfileImage {
  if (epoch === undefined) return img;
  const later = (t: string) => Date.parse(t) > Date.parse(epoch);
  const out = cloneImage(img);
  for (const h of out.history ?? []) if (h.created === undefined || later(h.created)) h.created = epoch;
  if (out.created !== undefined && later(out.created)) out.created = epoch;
  return out;
}

export function cloneImage(img: DockerfileImage): DockerfileImage {
  return structuredClone(img);
}

/** commitToHistory: an entry for the stage's image, dated SOURCE_DATE_EPOCH when the build has one (else undated). */
export function addHistory(d: { readonly image: DockerfileImage; readonly epoch?: string }, createdBy: string, withLayer: boolean, buildkitStep: boolean): void {
  const created = d.epoch === undefined ? {} : { created: d.epoch };
  (d.image.history ??= []).push({ ...created, created_by: buildkitStep ? `${createdBy} # buildkit` : createdBy, comment: HISTORY_COMMENT, ...(withLayer ? {} : { empty_layer: true }) });
}

/** Sets KEY=value in an env list, replacing an existing KEY in place. */
export function setEnv(env: string[] | undefined, key: string, value: string): string[] {
  const out = [...(env ?? [])];
  const i = out.findIndex((e) => e.split("=", 1)[0] === key);
  if (i >= 0) out[i] = `${key}=${value}`;
  else out.push(`${key}=${value}`);
  return out;
}
