/** BuildKit's name for frontends run from an image (`--opt source=IMAGE`). */
export const GATEWAY_FRONTEND = "gateway.v0";
