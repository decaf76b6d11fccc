// Files taken from the host's own root filesystem into an image (`--local host=/` with these
// include patterns), relative to / on a merged-/usr Debian (12 and later).

/**
 * glibc as a dynamically linked program needs it at run time: the ELF interpreter (at both
 * paths the architectures use) and libraries; a compiled Bun binary links libc, libm,
 * libpthread and libdl. extraLibs: more libraries from the multiarch directory.
 */
export function glibcFiles(extraLibs: readonly string[] = []): string[] {
  return [
    "usr/lib64/ld-linux-*",
    "usr/lib/ld-linux-*",
    ...["ld-linux-*", "libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", ...extraLibs].map((lib) => `usr/lib/*-linux-gnu/${lib}`),
  ];
}

/** buildctl's CSV quoting of one `--output` field: the value in double quotes, inner quotes doubled. */
export function csvQuote(field: string): string {
  return `"${field.replaceAll('"', '""')}"`;
}
