// The one /etc/passwd and /etc/group parser (the executor's user resolution and file actions' chown).
import { expect, test } from "bun:test";
import { parseGroup, parseId, parsePasswd } from "../../../src/core/fs/passwd.ts";

test("passwd entries: name, uid, gid; comments, blanks and bad lines dropped", () => {
  const text = "# c\nroot:x:0:0:root:/root:/bin/sh\n\n  app:x:1000:1001::/home/app:/bin/sh  \nbad:x:1a:0\n:x:5:5\n";
  expect(parsePasswd(text)).toEqual([
    { name: "root", uid: 0, gid: 0 },
    { name: "app", uid: 1000, gid: 1001 },
  ]);
});

test("group entries carry their members", () => {
  expect(parseGroup("wheel:x:10:root,app\nusers:x:100:\n")).toEqual([
    { name: "wheel", gid: 10, members: ["root", "app"] },
    { name: "users", gid: 100, members: [] },
  ]);
});

test("ids are decimal and below 2^32-1", () => {
  expect(parseId("42")).toBe(42);
  expect(parseId("-1")).toBeUndefined();
  expect(parseId("4294967295")).toBeUndefined();
  expect(parseId(undefined)).toBeUndefined();
});
