// `buildkit frontend`: the Dockerfile frontend as a BuildKit gateway frontend, the Entrypoint of
// a frontend image (`buildctl build --frontend gateway.v0 --opt source=IMAGE`, or a Dockerfile's
// `# syntax=IMAGE`). The daemon runs it with the LLBBridge connection on stdin and stdout, so
// nothing else may ever be written to stdout: messages go to stderr.
import { defineCommand } from "./command.ts";
import { EXIT_FAILURE, oneLine, UsageError } from "./exit.ts";
import { debugLog } from "./log.ts";

export default defineCommand({
  meta: {
    name: "frontend",
    description: "Run the Dockerfile frontend as a BuildKit gateway frontend (the Entrypoint of a frontend image; speaks LLBBridge on stdin/stdout)",
  },
  args: {},
  async run() {
    if (process.stdin.isTTY) throw new UsageError("buildkit frontend speaks gRPC on stdin and stdout: it is run by a BuildKit daemon as a frontend image's Entrypoint, not by hand");
    const [{ connect }, { BridgeClient }, { readFrontendEnv }, { stdioDuplex }, { runGatewayFrontend }, { FRONTENDS }] = await Promise.all([
      import("../api/grpc/client.ts"),
      import("../api/gateway/client/bridge-client.ts"),
      import("../api/gateway/client/frontend-env.ts"),
      import("../api/gateway/client/stdio-duplex.ts"),
      import("../api/gateway/client/run-gateway-frontend.ts"),
      import("../core/frontends/frontend.ts"),
    ]);
    const env = readFrontendEnv(process.env);
    debugLog(`frontend options: ${JSON.stringify(env.opts)}`);
    const controller = new AbortController();
    const stop = () => controller.abort(new Error("frontend interrupted"));
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
    const channel = connect(stdioDuplex(process.stdin, process.stdout));
    let failure: unknown;
    try {
      failure = await runGatewayFrontend(new BridgeClient(channel), FRONTENDS["dockerfile.v0"]!, env, controller.signal);
    } catch (err) {
      // The connection itself failed (Ping or Return): nothing could be told to the daemon.
      failure = err;
    } finally {
      await channel.close();
    }
    if (failure === undefined) process.exit(0);
    process.stderr.write(`error: ${oneLine(failure)}\n`);
    process.exit(EXIT_FAILURE);
  },
});
