/**
 * The LLB client library: build a graph with immutable States, then marshal it into a
 * Definition that buildkit-ts and BuildKit both solve.
 *
 *   const out = image("busybox").run({ shlex: "echo hi > /out/hi", mounts: [{ dest: "/out", source: scratch() }] });
 *   process.stdout.write(out.getMount("/out")!.marshal());
 */
export { State, ExecState, type NetMode, type SecurityMode, type HostIP, type Ulimit } from "./state.ts";
export { scratch, image, git, local, http, ociLayout, Attr, type ImageOptions, type GitOptions, type LocalOptions, type HTTPOptions, type OCILayoutOptions, type ResolveMode } from "./source.ts";
export { FileAction, mkdir, mkfile, rm, copy, symlink, type ChownSpec, type CopyOptions, type CreateOptions, type MkdirOptions, type RmOptions } from "./file.ts";
export { merge, diff } from "./merge-diff.ts";
export { marshalDefinition, type MarshalledDefinition } from "./marshal.ts";
export { SourceMap, type SourceLocation, type SourceRange, type SourcePosition } from "./source-map.ts";
export type { RunOptions, MountOptions, MountSpec, SecretSpec, SSHSpec, ProxyEnv, CacheSharing } from "./exec.ts";
export type { OpOptions } from "./options.ts";
export type { MarshalOptions, OpMetadata } from "./constraints.ts";
export { LLBError } from "./errors.ts";
export { shlexSplit } from "./shlex.ts";
export { Cap } from "./caps.ts";
export { hostPlatform, parsePlatform, formatPlatform, LINUX_AMD64, LINUX_ARM64, type Platform } from "./platform.ts";
