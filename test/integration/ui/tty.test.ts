// The tty display as a person sees it: `buildkit debug trace FILE --replay` plays a recorded
// build through the display inside a tmux pane (a real pseudo-terminal), and the pane's screen
// text is what the tests read, during the build and after it.
import { afterAll, describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { BUN, CLI, REPO_ROOT } from "../../paths.ts";

const TRACES = resolve(REPO_ROOT, "test/fixtures/traces");
const TMUX = Bun.which("tmux");
if (TMUX === null && process.env.CI === "true") throw new Error("tty tests cannot run under CI=true: tmux is not installed (apt-get install tmux)");
if (TMUX === null) console.log("skipping tty tests: tmux is not installed (apt-get install tmux)");

const sockets: string[] = [];
afterAll(() => {
  for (const s of sockets) Bun.spawnSync([TMUX ?? "tmux", "-L", s, "kill-server"], { stderr: "ignore" });
});

function tmux(socket: string, ...args: string[]): string {
  const p = Bun.spawnSync([TMUX ?? "tmux", "-L", socket, "-f", "/dev/null", "-u", ...args], { env: { ...process.env, LANG: "C.UTF-8" }, stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`tmux ${args[0]}: ${p.stderr.toString().trim()}`);
  return p.stdout.toString();
}

const quote = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

interface Pane {
  /** The visible screen, trailing blank lines dropped (`-e`: with colour codes). */
  screen(opts?: { escapes?: boolean }): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
  resize(columns: number, rows: number): void;
}

let paneCount = 0;

/** Runs `args` of the CLI in a fresh tmux server's pane of the given size. */
function runInPane(args: string[], opts: { columns: number; rows: number; env?: Record<string, string> }): Pane {
  const socket = `buildkit-tty-${process.pid}-${++paneCount}`;
  sockets.push(socket);
  const env = Object.entries({ LANG: "C.UTF-8", ...opts.env }).map(([k, v]) => `${k}=${quote(v)}`);
  const cmd = `cd ${quote(REPO_ROOT)} && env ${env.join(" ")} ${[BUN, CLI, ...args].map(quote).join(" ")}; echo "[exit $?]"; sleep 60`;
  tmux(socket, "new-session", "-d", "-s", "t", "-x", String(opts.columns), "-y", String(opts.rows), cmd);
  const screen = (o: { escapes?: boolean } = {}): string =>
    tmux(socket, "capture-pane", "-p", ...(o.escapes ? ["-e"] : []), "-t", "t")
      .replace(/\s+$/, "")
      .split("\n")
      .map((l) => l.trimEnd())
      .join("\n");
  return {
    screen,
    async waitFor(pattern, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const s = screen();
        if (pattern.test(s)) return s;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} on screen:\n${s}`);
        await Bun.sleep(25);
      }
    },
    resize(columns, rows) {
      tmux(socket, "resize-window", "-t", "t", "-x", String(columns), "-y", String(rows));
    },
  };
}

const replay = (name: string, ...more: string[]) => ["debug", "trace", `${TRACES}/${name}.jsonl`, "--replay", ...more];

describe.skipIf(TMUX === null)("tty display in a terminal", () => {
  test("cached build: every step's row, CACHED marks and the final header", async () => {
    const pane = runInPane(replay("cached"), { columns: 80, rows: 24 });
    const screen = await pane.waitFor(/\[exit \d+\]/);
    expect(screen.split("\n")).toEqual([
      expect.stringMatching(/^\[\+\] Building 0\.\ds \(4\/4\) FINISHED$/),
      "✔ local://rootfs                                                      DONE 0.0s",
      "✔ RUN sh -c 'echo one > /one'                                            CACHED",
      "✔ RUN sh -c 'echo two > /two'                                            CACHED",
      "✔ RUN sh -c 'cat /one /two'                                              CACHED",
      "[exit 0]",
    ]);
  });

  test("parallel build: steps run side by side with logs and transfers, then the whole tree", async () => {
    const pane = runInPane(replay("parallel"), { columns: 80, rows: 30 });
    // While B, C and D run: spinners, B's last 4 log lines, D's download with bytes and rate.
    const live = await pane.waitFor(/\n[^✔\s] RUN sh -c 'seq[^\n]*\n(?: {2}› \d+\n){4}[^\n]*echo compiling[^\n]*DONE[\s\S]*sha256:815ec45ce1f8 [1-9]/);
    const rows = live.split("\n");
    expect(rows[0]).toMatch(/^\[\+\] Building \d\.\ds \(2\/5\)$/);
    expect(rows[1]).toBe("✔ local://rootfs                                                      DONE 0.3s");
    expect(rows[2]).toBe("  ✔ transferring rootfs 2.40MB 8.00MB/s                               DONE 0.3s");
    expect(rows[3]).toMatch(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] RUN sh -c 'seq 1 40; sleep 1' +\d\.\ds$/);
    expect(rows.slice(4, 8).map((r) => r.replace(/\d+$/, "N"))).toEqual(["  › N", "  › N", "  › N", "  › N"]);
    const counted = rows.slice(4, 8).map((r) => Number(r.slice(4)));
    expect(counted).toEqual([counted[0] ?? 0, (counted[0] ?? 0) + 1, (counted[0] ?? 0) + 2, (counted[0] ?? 0) + 3]);
    expect(rows[8]).toBe("✔ RUN sh -c 'echo compiling; sleep 0.5'                               DONE 0.6s");
    expect(rows[9]).toMatch(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] RUN sh -c 'wget -O \/out http:\/\/mirror\/big\.tar' +\d\.\ds$/);
    expect(rows[10]).toMatch(/^ {2}[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] sha256:815ec45ce1f8 \d+\.\d\dMB \/ 45\.60MB \d+\.\d\dMB\/s +\d\.\ds$/);

    const final = await pane.waitFor(/\[exit \d+\]/);
    expect(final.split("\n")).toEqual([
      expect.stringMatching(/^\[\+\] Building 2\.\ds \(5\/5\) FINISHED$/),
      "✔ local://rootfs                                                      DONE 0.3s",
      "  ✔ transferring rootfs 2.40MB 8.00MB/s                               DONE 0.3s",
      "✔ RUN sh -c 'seq 1 40; sleep 1'                                       DONE 1.2s",
      "✔ RUN sh -c 'echo compiling; sleep 0.5'                               DONE 0.6s",
      "✔ RUN sh -c 'wget -O /out http://mirror/big.tar'                      DONE 2.0s",
      "  ✔ sha256:815ec45ce1f8 45.60MB / 45.60MB 25.33MB/s                   DONE 1.8s",
      "✔ RUN sh -c 'cat /b /c /d > /all'                                     DONE 0.3s",
      "[exit 0]",
    ]);
  }, 20_000);

  test("failing build: ERROR and CANCELED rows, then the failed step's full logs", async () => {
    const pane = runInPane(replay("failing"), { columns: 100, rows: 40 });
    const screen = await pane.waitFor(/\[exit \d+\]/);
    expect(screen.split("\n")).toEqual([
      expect.stringMatching(/^\[\+\] Building 0\.\ds \(3\/3\) ERROR$/),
      "✔ local://rootfs                                                                             CACHED",
      "✖ RUN sh -c 'for i in $(seq 1 12); do echo line $i; done; echo fatal: no such file >&2;… ERROR 0.8s",
      "  › process \"sh -c 'for i in $(seq 1 12); do echo line $i; done; echo fatal: no such file >&2; exi…",
      "↓ RUN sh -c 'sleep 10'                                                                     CANCELED",
      "",
      "------",
      " > RUN sh -c 'for i in $(seq 1 12); do echo line $i; done; echo fatal: no such file >&2; exit 2':",
      ...Array.from({ length: 12 }, (_, i) => `line ${i + 1}`),
      "fatal: no such file",
      "------",
      "[exit 0]",
    ]);
  });

  test("a narrower terminal gets narrower rows, mid-build", async () => {
    const pane = runInPane(replay("parallel", "--speed", "0.5"), { columns: 100, rows: 30 });
    await pane.waitFor(/RUN sh -c 'seq 1 40/);
    pane.resize(50, 30);
    const screen = await pane.waitFor(/^\[\+\] Building.*\n✔ local:\/\/rootfs {24}DONE 0\.3s$/m);
    for (const line of screen.split("\n")) expect(Bun.stringWidth(line)).toBeLessThanOrEqual(49);
    const final = await pane.waitFor(/\[exit \d+\]/);
    expect(final).toContain("✔ RUN sh -c 'wget -O /out http://mirro… DONE 2.0s");
  }, 20_000);

  test("NO_COLOR turns colours off; they are on otherwise", async () => {
    const plain = runInPane(replay("failing"), { columns: 100, rows: 40, env: { NO_COLOR: "1" } });
    await plain.waitFor(/\[exit \d+\]/);
    expect(plain.screen({ escapes: true })).not.toMatch(/\x1b\[[\d;]*m/);
    const colored = runInPane(replay("failing"), { columns: 100, rows: 40 });
    await colored.waitFor(/\[exit \d+\]/);
    expect(colored.screen({ escapes: true })).toMatch(/\x1b\[[\d;]*31m/); // the red ERROR
  }, 20_000);

  test("TERM=dumb degrades to plain lines", async () => {
    const pane = runInPane(replay("cached"), { columns: 80, rows: 24, env: { TERM: "dumb" } });
    const screen = await pane.waitFor(/\[exit \d+\]/);
    expect(screen).toContain("#1 local://rootfs");
    expect(screen).toContain("#2 CACHED");
    expect(screen).not.toContain("[+] Building");
  });
});
