// --output for remote builds: client-side targets, attributes passed to the daemon.
import { describe, expect, test } from "bun:test";
import { parseRemoteOutput, parseRemoteOutputs } from "../../../../src/api/client/outputs.ts";
import { daemonAddress, checkDaemonFlags } from "../../../../src/api/client/daemon-address.ts";
import { newId, sharedKey } from "../../../../src/api/client/identity.ts";

const resolvePath = (p: string) => `/abs/${p}`;

describe("parseRemoteOutput", () => {
  test("local, tar, oci and docker land on the client; dest is not sent", () => {
    expect(parseRemoteOutput("type=local,dest=out", { resolvePath })).toEqual({ type: "local", attrs: {}, target: { kind: "dir", dir: "/abs/out" }, toStdout: false });
    const tar = parseRemoteOutput("type=tar,dest=-", { resolvePath });
    expect([tar.type, tar.attrs, tar.target?.kind, tar.toStdout]).toEqual(["tar", {}, "writer", true]);
    const oci = parseRemoteOutput("type=oci,dest=img.tar,name=example.com/a:b", { resolvePath });
    expect([oci.attrs, oci.target?.kind, oci.toStdout]).toEqual([{ name: "example.com/a:b" }, "writer", false]);
  });

  test("oci or docker with tar=false: a layout directory the daemon fills through the session; it needs a dest directory", () => {
    expect(parseRemoteOutput("type=oci,dest=layout,tar=false", { resolvePath })).toEqual({ type: "oci", attrs: { tar: "false" }, layoutDir: "/abs/layout", toStdout: false });
    expect(() => parseRemoteOutput("type=oci,dest=-,tar=false")).toThrow("output type=oci: tar=false needs dest=DIR");
    expect(() => parseRemoteOutput("type=docker,tar=false")).toThrow("output type=docker: tar=false needs dest=DIR");
  });

  test("image stays on the daemon with its attributes", () => {
    expect(parseRemoteOutput("type=image,name=reg:5000/x:y,push=true")).toEqual({ type: "image", attrs: { name: "reg:5000/x:y", push: "true" }, toStdout: false });
  });

  test("a missing dest, or more than one output, is refused", () => {
    expect(() => parseRemoteOutput("type=local")).toThrow("dest=DIR is required");
    expect(() => parseRemoteOutput("type=tar")).toThrow("dest=FILE or dest=- is required");
    expect(() => parseRemoteOutputs(["type=tar,dest=-", "type=local,dest=x"])).toThrow("one --output");
    expect(parseRemoteOutputs([])).toBeUndefined();
  });
});

describe("daemon address", () => {
  test("--addr beats BUILDKIT_HOST; neither means daemonless", () => {
    expect(daemonAddress({ addr: "unix:///a.sock" }, { BUILDKIT_HOST: "tcp://h:1" })).toBe("unix:///a.sock");
    expect(daemonAddress({}, { BUILDKIT_HOST: "tcp://h:1" })).toBe("tcp://h:1");
    expect(daemonAddress({}, { BUILDKIT_HOST: "" })).toBeUndefined();
    expect(daemonAddress({ addr: "" }, {})).toBeUndefined();
  });

  test("bad addresses and TLS flag combinations", () => {
    expect(() => checkDaemonFlags("docker-container://bk", {})).toThrow("--addr docker-container://bk: ");
    expect(() => checkDaemonFlags("tcp://host", {})).toThrow("a port is required");
    expect(() => checkDaemonFlags("unix:///s.sock", { tlscacert: "ca.pem" })).toThrow("TLS flags need a tcp:// address");
    expect(() => checkDaemonFlags("tcp://h:1234", { tlscert: "c.pem" })).toThrow("--tlscert and --tlskey go together");
    expect(() => checkDaemonFlags("tcp://h:1234", { tlscacert: "ca.pem", tlsservername: "h" })).not.toThrow();
  });
});

describe("identity", () => {
  test("ids are 25 base36 characters, and differ", () => {
    const a = newId();
    expect(a).toMatch(/^[0-9a-z]{25}$/);
    expect(newId()).not.toBe(a);
  });

  test("the shared key is stable per host and directory set, in any order", () => {
    expect(sharedKey(["/b", "/a"], "host1")).toBe(sharedKey(["/a", "/b", "/a"], "host1"));
    expect(sharedKey(["/a"], "host1")).not.toBe(sharedKey(["/a"], "host2"));
    expect(sharedKey(["/a"], "host1")).not.toBe(sharedKey(["/a", "/b"], "host1"));
  });
});
