// The capabilities the daemon announces in LLBBridge.Ping. BuildKit's clients check every cap a
// Definition's metadata names against the LLB list, and pick gateway features by the frontend
// list, so each is listed as enabled only where this engine really has the feature.
import type { apiPb } from "../pb/index.ts";

type APICap = apiPb.moby.buildkit.v1.apicaps.APICap.$Properties;

/** Gateway features (frontend/gateway/pb/caps.go). */
const FRONTEND_CAPS: Readonly<Record<string, boolean>> = {
  "solve.base": true,
  "solve.inlinereturn": true,
  resolveimage: true,
  "resolveimage.resolvemode": true,
  readfile: true,
  return: true,
  returnmap: true,
  readdir: true,
  statfile: true,
  importcaches: true,
  "proto.refarray": false,
  "reference.output": false,
  "frontend.inputs": true,
  "gateway.solve.metadata": true,
  "gateway.exec": false,
  "gateway.exec.extrahosts": false,
  "gateway.exec.signals": false,
  "frontend.caps": true, // gateway.v0 checks the frontend.caps option against the image's label
  "gateway.solve.evaluate": true,
  "gateway.evaluate": true,
  "gateway.warnings": true,
  "reference.attestations": false,
};

/** LLB features (solver/pb/caps.go). */
const LLB_CAPS: Readonly<Record<string, boolean>> = {
  "source.image": true,
  "source.image.resolvemode": true,
  "source.image.layerlimit": true,
  "source.local": true,
  "source.local.unique": true,
  "source.local.sessionid": true,
  "source.local.includepatterns": true,
  "source.local.followpaths": true,
  "source.local.excludepatterns": true,
  "source.local.sharedkeyhint": true,
  "source.local.differ": true, // accepted: it changes how a transfer compares files, not what arrives
  "source.git": true,
  "source.git.keepgitdir": true,
  "source.git.fullurl": true,
  "source.git.httpauth": true,
  "source.git.knownsshhosts": true,
  "source.git.mountsshsock": true,
  "source.git.subdir": true,
  "source.http": true,
  "source.http.checksum": true,
  "source.http.perm": true,
  "soruce.http.uidgid": true, // sic: BuildKit's spelling
  "source.ocilayout": true,
  "source.buildop.llbfilename": false,
  "exec.meta.base": true,
  "exec.meta.cgroup.parent": false,
  "exec.meta.network": true,
  "exec.meta.proxyenv": true,
  "exec.meta.security": true,
  "exec.meta.security.devices.v1": false,
  "exec.meta.setsdefaultpath": true,
  "exec.meta.ulimit": true,
  "exec.meta.removemountstubs.recursive": true, // executor/stubs.ts removes missing parents too
  "exec.mount.bind": true,
  "exec.mount.bind.readwrite-nooutput": true,
  "exec.mount.cache": true,
  "exec.mount.cache.sharing": true,
  "exec.mount.selector": true,
  "exec.mount.tmpfs": true,
  "exec.mount.tmpfs.size": true,
  "exec.mount.secret": true,
  "exec.mount.ssh": true,
  "exec.cgroup": false,
  "exec.secretenv": true,
  "file.base": true,
  "file.rm.wildcard": true,
  "file.copy.includeexcludepatterns": true,
  "file.rm.nofollowsymlink": true,
  constraints: true,
  platform: true,
  "meta.ignorecache": true,
  "meta.description": true,
  "meta.exportcache": true,
  "cache.gha": false,
  "cache.s3": false,
  "cache.azblob": false,
  mergeop: true,
  diffop: true,
  "exporter.image.annotations": true,
  "exporter.image.attestations": false,
  "exporter.sourcedateepoch": true,
  "source.policy": false,
};

function caps(table: Readonly<Record<string, boolean>>): APICap[] {
  return Object.entries(table).map(([ID, enabled]) => ({ ID, Enabled: enabled, ...(enabled ? {} : { DisabledReason: "not supported by buildkit-ts", DisabledReasonMsg: "not supported by buildkit-ts" }) }));
}

export const frontendCaps = (): APICap[] => caps(FRONTEND_CAPS);
export const llbCaps = (): APICap[] => caps(LLB_CAPS);
