/** Content digests in the OCI form `sha256:<hex>`, made only by hashing. */
export type Digest = string & { readonly __brand: "Digest" };

const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

export function sha256(data: Uint8Array | string): Digest {
  return `sha256:${new Bun.CryptoHasher("sha256").update(data).digest("hex")}` as Digest;
}

export function isDigest(value: string): value is Digest {
  return DIGEST_RE.test(value);
}

/** The hex part of a sha256 digest. */
export function hexOf(digest: Digest): string {
  return digest.slice("sha256:".length);
}
