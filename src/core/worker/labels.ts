// The label keys workers describe themselves with (ListWorkers, `debug workers`), as BuildKit
// names them (worker/label/label.go); buildx and `buildctl debug workers` show them.
const PREFIX = "org.mobyproject.buildkit.worker.";

export const WORKER_LABEL = {
  executor: `${PREFIX}executor`,
  snapshotter: `${PREFIX}snapshotter`,
  hostname: `${PREFIX}hostname`,
  network: `${PREFIX}network`,
  selinuxEnabled: `${PREFIX}selinux.enabled`,
  ociProcessMode: `${PREFIX}oci.process-mode`,
  containerdUUID: `${PREFIX}containerd.uuid`,
  containerdNamespace: `${PREFIX}containerd.namespace`,
} as const;

/**
 * What both our workers' steps get: the host's network (no CNI, as buildkitd's "auto" network
 * mode falls back to when none is configured) and no SELinux labels.
 */
export const EXEC_LABELS: Readonly<Record<string, string>> = {
  [WORKER_LABEL.network]: "host",
  [WORKER_LABEL.selinuxEnabled]: "false",
};
