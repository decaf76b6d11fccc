/**
 * The image config JSON exactly as Go's encoding/json writes BuildKit's image.Image: fields in
 * struct order, omitempty fields left out when empty, map keys sorted, OnBuild always present.
 * The bytes are what the frontend returns as `containerimage.config`.
 */
import { goJSON } from "../../go-json.ts";
import type { Health } from "./instructions.ts";
import type { ContainerConfig, DockerfileImage, History } from "./image-config.ts";

type Json = string | number | boolean | null | Json[] | { [k: string]: Json };

const sortedKeys = <T>(m: Record<string, T> | undefined): Record<string, T> | undefined =>
  m && Object.keys(m).length > 0 ? Object.fromEntries(Object.keys(m).sort().map((k) => [k, m[k] as T])) : undefined;

const list = (l: readonly string[] | null | undefined): string[] | undefined => (l && l.length > 0 ? [...l] : undefined);

/** Drops undefined members (Go's omitempty, once the empty values are mapped to undefined). */
function compact(o: Record<string, Json | undefined>): { [k: string]: Json } {
  return Object.fromEntries(Object.entries(o).filter((e): e is [string, Json] => e[1] !== undefined));
}

function health(h: Health | undefined): Json | undefined {
  if (!h) return undefined;
  return compact({ Test: list(h.Test), Interval: h.Interval || undefined, Timeout: h.Timeout || undefined, StartPeriod: h.StartPeriod || undefined, Retries: h.Retries || undefined });
}

function containerConfig(c: ContainerConfig): Json {
  return compact({
    User: c.User || undefined,
    ExposedPorts: sortedKeys(c.ExposedPorts),
    Env: list(c.Env),
    Entrypoint: list(c.Entrypoint),
    Cmd: list(c.Cmd),
    Volumes: sortedKeys(c.Volumes),
    WorkingDir: c.WorkingDir || undefined,
    Labels: sortedKeys(c.Labels),
    StopSignal: c.StopSignal || undefined,
    Healthcheck: health(c.Healthcheck),
    ArgsEscaped: c.ArgsEscaped || undefined,
    OnBuild: c.OnBuild && c.OnBuild.length > 0 ? [...c.OnBuild] : null,
    Shell: list(c.Shell),
  });
}

function history(h: History): Json {
  return compact({ created: h.created, created_by: h.created_by || undefined, author: h.author || undefined, comment: h.comment || undefined, empty_layer: h.empty_layer || undefined });
}

export function imageJson(img: DockerfileImage): string {
  return goJSON(
    compact({
      created: img.created,
      author: img.author || undefined,
      architecture: img.architecture ?? "",
      variant: img.variant || undefined,
      os: img.os ?? "",
      rootfs: { type: img.rootfs?.type ?? "", diff_ids: img.rootfs?.diff_ids ? [...img.rootfs.diff_ids] : null },
      history: img.history && img.history.length > 0 ? img.history.map(history) : undefined,
      config: containerConfig(img.config),
    }),
  );
}
