/** The registry client and what callers need to configure it and read its answers. */
export { createRegistryClient, DEFAULT_USER_AGENT } from "./client.ts";
export type { RegistryClient, RegistryClientOptions } from "./client.ts";
export { loadRegistryConfig, parseRegistryConfig, registryConfigFromToml } from "./config.ts";
export type { RegistryConfig, RegistryHostConfig, RegistryKeyPair } from "./config.ts";
export { loadDockerConfig, parseDockerConfig } from "./docker-config.ts";
export type { Credentials, CredentialStore } from "./docker-config.ts";
export { MediaType, MANIFEST_ACCEPT, parseImageConfig, parseManifest } from "./manifest.ts";
export type { Descriptor, ImageConfig, ImageIndex, ImageManifest, ParsedManifest } from "./manifest.ts";
export { onlyPlatform, normalizePlatform } from "./platform-match.ts";
export type { PlatformMatcher } from "./platform-match.ts";
export type { BlobDescriptor, ResolvedImage } from "./pull.ts";
export type { BlobData, PushBlobOptions, PushBlobResult } from "./push.ts";
export type { Repository, RepositoryLike } from "./repository.ts";
export { DEFAULT_RETRY_POLICY } from "./retry.ts";
export type { RetryPolicy } from "./retry.ts";
export { verifyingStream } from "./verify-stream.ts";
