/** What the pull and push operations share within one client. */
import type { BlobLocations } from "./blob-locations.ts";
import type { HostResolver } from "./hosts.ts";
import type { Transport } from "./transport.ts";

export interface RegistryContext {
  readonly hosts: HostResolver;
  readonly transport: Transport;
  readonly locations: BlobLocations;
  readonly debug?: (message: string) => void;
}
