/**
 * An OCI image layout directory (DIR/blobs/ALG/HEX) as a read-only content store: what a
 * daemonless build reads a `--oci-layout NAME=DIR` through, in place of the session store a
 * remote client serves. Only sha256 digests are addressed, so no digest names a path outside DIR.
 */
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { hexOf, isDigest, type Digest } from "../digest.ts";
import { BuildkitError } from "../errors.ts";
import type { ContentInfo, ContentStore } from "../worker/content-store.ts";

export function layoutContentStore(dir: string): ContentStore {
  const blobs = join(dir, "blobs", "sha256");
  const path = (digest: Digest) => {
    if (!isDigest(digest)) throw new BuildkitError("InvalidArgument", `addressing blob: ${JSON.stringify(digest)} is not a sha256 digest`);
    return join(blobs, hexOf(digest));
  };
  const readOnly = () => new BuildkitError("Unimplemented", `the OCI layout ${dir} is read only`);
  return {
    async info(digest) {
      const st = await stat(path(digest)).catch(() => undefined);
      return st?.isFile() ? { digest, size: st.size } : undefined;
    },
    read(digest, opts = {}) {
      const file = path(digest);
      let inner: ReadableStreamDefaultReader<Uint8Array> | undefined;
      return new ReadableStream<Uint8Array>({
        async pull(c) {
          opts.signal?.throwIfAborted();
          if (inner === undefined) {
            if (!(await Bun.file(file).exists())) throw new BuildkitError("NotFound", `reading blob ${digest}: not in the OCI layout ${dir}`);
            inner = Bun.file(file).stream().getReader() as ReadableStreamDefaultReader<Uint8Array>;
          }
          const { done, value } = await inner.read();
          if (done) c.close();
          else c.enqueue(value);
        },
        async cancel(reason) {
          await inner?.cancel(reason);
        },
      });
    },
    async writer() {
      throw readOnly();
    },
    async delete() {
      throw readOnly();
    },
    async *list(): AsyncIterable<ContentInfo> {
      const names = await readdir(blobs).catch(() => [] as string[]);
      for (const name of names) {
        if (!/^[0-9a-f]{64}$/.test(name)) continue;
        const st = await stat(join(blobs, name)).catch(() => undefined);
        if (st?.isFile()) yield { digest: `sha256:${name}` as Digest, size: st.size };
      }
    },
  };
}
