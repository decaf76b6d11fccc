import { describe, expect, test } from "bun:test";
import { formatMetadata } from "../../../src/cmd/metadata-file.ts";

const b64 = (text: string) => Buffer.from(text).toString("base64");

describe("--metadata-file, as buildctl writes it", () => {
  test("base64 of a JSON object is embedded; digests, paths and other base64 stay strings", () => {
    const descriptor = { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: "sha256:ab", size: 3 };
    const text = formatMetadata({
      "containerimage.digest": "sha256:ab",
      "containerimage.descriptor": b64(JSON.stringify(descriptor)),
      "local.dest": "/tmp/out",
      "not-an-object": b64("[1,2]"),
      "empty-object": b64("{}"),
      "not-json": b64("hello"),
    });
    expect(JSON.parse(text)).toEqual({
      "containerimage.descriptor": descriptor,
      "containerimage.digest": "sha256:ab",
      "empty-object": b64("{}"),
      "local.dest": "/tmp/out",
      "not-an-object": b64("[1,2]"),
      "not-json": b64("hello"),
    });
    expect(Object.keys(JSON.parse(text) as object)).toEqual(["containerimage.descriptor", "containerimage.digest", "empty-object", "local.dest", "not-an-object", "not-json"]);
    expect(text).toStartWith('{\n  "containerimage.descriptor": {\n    "mediaType"');
  });

  test("an empty response is an empty object", () => {
    expect(formatMetadata({})).toBe("{}");
  });
});
