import { describe, expect, test } from "bun:test";
import { fileNameFor, parseHttpIdentifier, safeFileName } from "../../../../src/core/sources/http/index.ts";
import { BuildkitError } from "../../../../src/core/errors.ts";

const URL_ = "https://example.test/dl/tool-1.2.tar.gz?x=1";
const DIGEST = `sha256:${"a".repeat(64)}`;

function parseError(id: string, attrs: Record<string, string>): string {
  try {
    parseHttpIdentifier(id, attrs);
  } catch (err) {
    expect(err).toBeInstanceOf(BuildkitError);
    return (err as BuildkitError).message;
  }
  throw new Error("no error");
}

describe("http source identifier", () => {
  test("attributes as BuildKit's client writes them", () => {
    const id = parseHttpIdentifier(URL_, {
      "http.checksum": DIGEST,
      "http.filename": "t.tgz",
      "http.perm": "0755",
      "http.uid": "1000",
      "http.gid": "0x10",
      "http.header.user-agent": "me",
      "http.header.accept": "application/octet-stream",
      "http.header.x-evil": "dropped",
      "http.authheadersecret": "TOKEN",
    });
    expect(id).toEqual({
      url: URL_,
      checksum: DIGEST,
      filename: "t.tgz",
      perm: 0o755,
      uid: 1000,
      gid: 16,
      headers: [
        { name: "Accept", value: "application/octet-stream" },
        { name: "User-Agent", value: "me" },
      ],
      authHeaderSecret: "TOKEN",
    } as never);
  });

  test("bad values are one-line errors, with credentials redacted", () => {
    expect(parseError("https://u:secret@h.test/f", { "http.perm": "rwx" })).toBe('http source https://u:xxxxx@h.test/f: invalid perm "rwx"');
    expect(parseError("https://h.test/f", { "http.checksum": "md5:abc" })).toBe('http source https://h.test/f: invalid checksum "md5:abc"');
    expect(parseError("ftp://h.test/f", {})).toBe("http source ftp://h.test/f: not an http or https URL");
    expect(parseError("https://", {})).toBe("http source https://: invalid URL");
  });

  test("file names: attribute, Content-Disposition, URL path, else index; never a path", () => {
    const plain = parseHttpIdentifier(URL_, {});
    expect(fileNameFor(plain)).toBe("tool-1.2.tar.gz");
    expect(fileNameFor(plain, 'attachment; filename="../../etc/passwd"')).toBe("passwd");
    expect(fileNameFor(plain, "attachment; filename=report.pdf")).toBe("report.pdf");
    expect(fileNameFor(plain, 'attachment; filename="dir/"')).toBe("tool-1.2.tar.gz");
    expect(fileNameFor(parseHttpIdentifier("https://h.test/", {}))).toBe("index");
    expect(fileNameFor(parseHttpIdentifier("https://h.test/a%20b", {}))).toBe("a b");
    expect(fileNameFor(parseHttpIdentifier(URL_, { "http.filename": "../x/y" }), "attachment; filename=z")).toBe("y");
    expect(["", ".", "/", "..", "a/..", "a/b/"].map(safeFileName)).toEqual(["index", "index", "index", "index", "index", "b"]);
  });
});
