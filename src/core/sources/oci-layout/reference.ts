/**
 * The reference of an `oci-layout://REF` source, read as BuildKit's identifier reads it
 * (containerd's reference.Parse): a locator that starts with a host (`docker.io/library/name`,
 * `localhost:5000/x`), then an object, `:tag`, `@digest` or `tag@digest`. The layout is looked up
 * by digest only (tags are not resolved), so a digest is required.
 */
import { isDigest, type Digest } from "../../digest.ts";
import { BuildkitError } from "../../errors.ts";

export interface OciLayoutRef {
  /** Host and path, as containerd's Spec.Locator. */
  readonly locator: string;
  readonly digest: Digest;
  /** The reference as containerd writes it back (Spec.String). */
  readonly text: string;
}

const invalid = (ref: string, why: string) => new BuildkitError("InvalidArgument", `invalid oci-layout reference ${JSON.stringify(ref)}: ${why}`);

export function parseOciLayoutRef(ref: string): OciLayoutRef {
  if (ref.includes("://")) throw invalid(ref, "it has a scheme");
  const slash = ref.indexOf("/");
  const host = slash < 0 ? ref : ref.slice(0, slash);
  const path = slash < 0 ? "" : ref.slice(slash);
  // As a URL's authority: user info and a port that is not a number make it invalid
  // ("name@sha256:…" parses as user "name" at host "sha256" with port "…").
  if (host.includes("@")) throw invalid(ref, "the host part has an \"@\" (write the name with a host and path, e.g. docker.io/library/NAME@sha256:…)");
  const colon = host.lastIndexOf(":");
  if (colon >= 0 && !/^\d*$/.test(host.slice(colon + 1))) throw invalid(ref, `invalid port ${JSON.stringify(host.slice(colon))} after host`);
  if (host === "") throw invalid(ref, "hostname required");
  const split = /[:@]/.exec(path);
  const locator = (host + (split ? path.slice(0, split.index) : path)).replace(/\/+$/, "");
  let object = split ? path.slice(split.index) : "";
  if (object.startsWith(":")) object = object.slice(1);
  const at = object.indexOf("@");
  const digest = at < 0 ? "" : object.slice(at + 1);
  if (digest === "") throw invalid(ref, "it has no digest (oci-layout sources are looked up by digest: NAME@sha256:…)");
  if (!isDigest(digest)) throw invalid(ref, `unsupported digest ${JSON.stringify(digest)}`);
  return { locator, digest, text: object.startsWith("@") ? `${locator}${object}` : `${locator}:${object}` };
}
