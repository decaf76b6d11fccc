// The dockerfile.v0 attributes BuildKit's builder/build.go reads (add-hosts, shm-size, ulimit,
// force-network-mode, hostname, image-resolve-mode, BUILDKIT_CACHE_MOUNT_NS, contextsubdir,
// cgroup-parent): values as Go reads them, and errors in its words, naming the attribute.
import { describe, expect, test } from "bun:test";
import { parseDockerfileAttrs } from "../../../src/core/frontends/dockerfile/attrs.ts";
import { formatGoIP, parseGoIP } from "../../../src/core/frontends/dockerfile/go-ip.ts";
import { readGoCsvRecord } from "../../../src/core/go-csv.ts";

const err = (opts: Record<string, string>): string => {
  try {
    parseDockerfileAttrs(opts);
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  return "no error";
};

describe("Go's net.ParseIP and IP.String", () => {
  const cases: [string, string | undefined][] = [
    ["10.0.0.1", "10.0.0.1"],
    ["::ffff:10.0.0.1", "10.0.0.1"],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["::", "::"],
    ["::1", "::1"],
    ["fe80::1:0:0:1", "fe80::1:0:0:1"],
    ["1:0:0:2:0:0:0:3", "1:0:0:2::3"],
    ["1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7"],
    ["::1.2.3.4", "::102:304"],
    ["01.2.3.4", undefined],
    ["1.2.3", undefined],
    ["256.1.1.1", undefined],
    ["fe80::1%eth0", undefined],
    ["1::2::3", undefined],
    ["host", undefined],
  ];
  for (const [input, want] of cases) {
    test(input, () => {
      const ip = parseGoIP(input);
      expect(ip === undefined ? undefined : formatGoIP(ip)).toBe(want);
    });
  }
});

describe("Go's csv record", () => {
  test("quoted fields, doubled quotes, the first line only", () => {
    expect(readGoCsvRecord('a=1,"b=2,3","c=""x"""\nd=4')).toEqual(["a=1", "b=2,3", 'c="x"']);
  });
  test("a bare quote is an error", () => {
    expect(() => readGoCsvRecord('a="1"')).toThrow('parse error on line 1, column 3: bare " in non-quoted-field');
  });
});

describe("dockerfile.v0 attributes", () => {
  test("defaults change nothing", () => {
    const a = parseDockerfileAttrs({});
    expect([a.imageResolveMode, a.extraHosts, a.shmSize, a.ulimits, a.forceNetMode, a.hostname, a.cacheIDNamespace]).toEqual(["default", [], 0, [], "sandbox", undefined, ""]);
  });

  test("values as build.go reads them", () => {
    const a = parseDockerfileAttrs({
      "add-hosts": "MyHost=10.0.0.1,V6=2001:DB8::0001",
      "shm-size": "67108864",
      ulimit: "nofile=1024:2048,nproc=512,core=-1",
      "force-network-mode": "none",
      hostname: "plain",
      "image-resolve-mode": "local",
      "build-arg:BUILDKIT_CACHE_MOUNT_NS": "ns",
      contextsubdir: "sub/dir",
    });
    expect(a.extraHosts).toEqual([{ host: "myhost", ip: "10.0.0.1" }, { host: "v6", ip: "2001:db8::1" }]);
    expect(a.shmSize).toBe(67108864);
    expect(a.ulimits).toEqual([{ name: "nofile", soft: 1024, hard: 2048 }, { name: "nproc", soft: 512, hard: 512 }, { name: "core", soft: -1, hard: -1 }]);
    expect([a.forceNetMode, a.hostname, a.imageResolveMode, a.cacheIDNamespace]).toEqual(["none", "plain", "local", "ns"]);
  });

  test("BUILDKIT_SANDBOX_HOSTNAME overrides hostname; empty does not", () => {
    expect(parseDockerfileAttrs({ hostname: "a", "build-arg:BUILDKIT_SANDBOX_HOSTNAME": "b" }).hostname).toBe("b");
    expect(parseDockerfileAttrs({ hostname: "a", "build-arg:BUILDKIT_SANDBOX_HOSTNAME": "" }).hostname).toBe("a");
  });

  test("bad values: one line naming the attribute, in BuildKit's words", () => {
    expect(err({ "add-hosts": "myhost=1.2.3" })).toBe('dockerfile frontend: attribute add-hosts="myhost=1.2.3": failed to parse additional hosts: failed to parse IP 1.2.3');
    expect(err({ "add-hosts": "myhost" })).toBe('dockerfile frontend: attribute add-hosts="myhost": failed to parse additional hosts: invalid key-value pair myhost');
    expect(err({ "shm-size": "64m" })).toBe('dockerfile frontend: attribute shm-size="64m": failed to parse shm size: strconv.ParseInt: parsing "64m": invalid syntax');
    expect(err({ ulimit: "bogus=1" })).toBe('dockerfile frontend: attribute ulimit="bogus=1": failed to parse ulimit: invalid ulimit type: bogus');
    expect(err({ ulimit: "nofile=10:5" })).toBe('dockerfile frontend: attribute ulimit="nofile=10:5": failed to parse ulimit: ulimit soft limit must be less than or equal to hard limit: 10 > 5');
    expect(err({ ulimit: "nofile=-1:5" })).toContain("soft: -1 (unlimited), hard: 5");
    expect(err({ ulimit: "nofile=1:2:3" })).toContain("too many limit value arguments - 1:2:3");
    expect(err({ "force-network-mode": "bridge" })).toBe('dockerfile frontend: attribute force-network-mode="bridge": invalid netmode bridge');
    expect(err({ "image-resolve-mode": "always" })).toBe('dockerfile frontend: attribute image-resolve-mode="always": invalid image-resolve-mode: always');
    for (const e of [err({ "add-hosts": "a=b" }), err({ ulimit: "x" })]) expect(e).not.toContain("\n");
  });

  test("cgroup-parent stays refused", () => {
    expect(err({ "cgroup-parent": "/build" })).toBe("dockerfile frontend: attribute cgroup-parent is not supported");
  });
});
