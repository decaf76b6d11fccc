import { startBusyboxRegistry } from "./lib/busybox-registry.ts";
const r = await startBusyboxRegistry("/tmp/x");
console.log(r.ref, r.config, r.registry.host);
await Bun.sleep(3 * 3600e3);
