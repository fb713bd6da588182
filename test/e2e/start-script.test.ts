/**
 * scripts/start.mjs (npm start) on its own: a fake `wrangler` first on PATH
 * records its arguments and plays `wrangler dev` (waits, exits with a code, is
 * killed by a signal), and a local HTTP server stands where wrangler dev would
 * listen, answering or hanging the ticker's /__scheduled requests. Ticks come
 * every second here (TICK_INTERVAL_SECONDS) so nothing waits for a real minute.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";

const START = fileURLToPath(new URL("../../scripts/start.mjs", import.meta.url));

/** Waits for `probe` to hold; the deadline only catches a hang (it is no speed assertion). */
async function waitFor(what: string, probe: () => boolean, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; output:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// `wrangler d1 ...` exits with $FAKE_MIGRATE_EXIT; `wrangler dev` does what $FAKE_DEV says:
// "exit:N", "signal:NAME" (kills itself), or waits until SIGTERM (then logs it and exits 0).
const FAKE_WRANGLER = `#!/bin/sh
echo "$*" >> "$FAKE_WRANGLER_LOG"
case "$1" in
  d1) exit "\${FAKE_MIGRATE_EXIT:-0}" ;;
  dev)
    case "$FAKE_DEV" in
      exit:*) exit "\${FAKE_DEV#exit:}" ;;
      signal:*) kill -s "\${FAKE_DEV#signal:}" $$ ;;
    esac
    sleep 600 &
    sleeper=$!
    trap 'kill $sleeper; echo "dev stopped by TERM" >> "$FAKE_WRANGLER_LOG"; exit 0' TERM
    wait $sleeper
    ;;
esac
`;

let dir: string;
let bin: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "start-script-"));
  // The fake wrangler, in a directory of its own put first on PATH.
  bin = mkdtempSync(join(dir, "bin-"));
  writeFileSync(join(bin, "wrangler"), FAKE_WRANGLER);
  chmodSync(join(bin, "wrangler"), 0o755);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Run {
  child: ChildProcess;
  output(): string;
  /** The fake wrangler's log: one line per call (its arguments), plus what it noticed. */
  calls(): string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const runs: Run[] = [];

/** `node scripts/start.mjs ...args` with the fake wrangler first on PATH, in its own process group. */
function start(args: string[], env: Record<string, string> = {}): Run {
  const log = join(mkdtempSync(join(dir, "run-")), "wrangler.log");
  writeFileSync(log, "");
  const child = spawn(process.execPath, [START, ...args], {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      PATH: `${bin}:${process.env.PATH}`,
      FAKE_WRANGLER_LOG: log,
      AUTO_TICK: "1",
      TICK_INTERVAL_SECONDS: "1",
      TICK_TIMEOUT_SECONDS: "0.5",
      ...env,
    },
  });
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  const run: Run = {
    child,
    output: () => output,
    calls: () => readFileSync(log, "utf8").split("\n").filter(Boolean),
    exited,
  };
  runs.push(run);
  return run;
}

afterEach(async () => {
  for (const run of runs.splice(0)) {
    if (run.child.exitCode === null && run.child.signalCode === null) {
      try {
        process.kill(-run.child.pid!, "SIGKILL");
      } catch {}
      await run.exited;
    }
  }
});

type Reply = "hang" | number;

/**
 * Stands where wrangler dev listens (`host`, a free port): answers /health, and
 * each /__scheduled request with the next of `replies` (200 once they run out).
 */
async function fakeDev(host: string, replies: Reply[] = []) {
  const scheduled: string[] = [];
  const server: Server = createServer((request, response: ServerResponse) => {
    const url = request.url ?? "/";
    if (!url.startsWith("/__scheduled")) return response.writeHead(200).end("{}");
    scheduled.push(url);
    const reply = replies.shift() ?? 200;
    if (reply === "hang") return; // never answers
    response.writeHead(reply, { "content-type": "text/plain" }).end(reply === 200 ? "Ran scheduled event" : "the handler threw");
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    port: (server.address() as AddressInfo).port,
    scheduled,
    close: () => {
      server.closeAllConnections();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}

describe("npm start's ticker", () => {
  it("applies the migrations, starts wrangler dev --test-scheduled, and ticks on through a hung tick and a failed one", async () => {
    const dev = await fakeDev("127.0.0.1", ["hang", 500]);
    try {
      const run = start(["--port", String(dev.port), "--persist-to", join(dir, "state")]);
      await waitFor("three ticks and both failures logged", () => {
        const out = run.output();
        return dev.scheduled.length >= 3 && out.includes("timed out after 0.5 s") && out.includes("failed: HTTP 500");
      }, run.output);
      expect(new Set(dev.scheduled)).toEqual(new Set(["/__scheduled?cron=*+*+*+*+*"]));
      expect(run.calls().slice(0, 2)).toEqual([
        `d1 migrations apply DB --local --persist-to ${join(dir, "state")}`,
        `dev --test-scheduled --port ${dev.port} --persist-to ${join(dir, "state")}`,
      ]);
      expect(run.output()).toContain("the handler threw"); // the failed tick's answer is in the log
      expect(run.child.exitCode).toBeNull(); // still running
    } finally {
      await dev.close();
    }
  });

  it.each([
    { args: ["--ip", "::"], listen: "::1" }, // every address, IPv6 included: the ticker calls [::1]
    { args: ["--ip=::1"], listen: "::1" },
    { args: ["--ip", "[::1]"], listen: "::1" },
    { args: ["--ip", "0.0.0.0"], listen: "127.0.0.1" },
    { args: ["--ip", "127.0.0.2"], listen: "127.0.0.2" },
    { args: ["--ip", "localhost"], listen: "127.0.0.1" },
    { args: [], listen: "127.0.0.1" }, // wrangler's default, localhost
  ])("reaches wrangler dev started with $args on $listen", async ({ args, listen }) => {
    const dev = await fakeDev(listen);
    try {
      // Both spellings of the port option.
      const port = args.length % 2 ? [`--port=${dev.port}`] : ["--port", String(dev.port)];
      const run = start([...args, ...port]);
      await waitFor(`a tick on ${listen}`, () => dev.scheduled.length > 0, run.output);
      expect(run.calls()[1]).toBe(["dev", "--test-scheduled", ...args, ...port].join(" "));
    } finally {
      await dev.close();
    }
  });

  it("does not tick with AUTO_TICK=0", async () => {
    const dev = await fakeDev("127.0.0.1");
    try {
      const run = start(["--port", String(dev.port)], { AUTO_TICK: "0", FAKE_DEV: "exit:0" });
      expect(await run.exited).toEqual({ code: 0, signal: null });
      expect(dev.scheduled).toEqual([]);
    } finally {
      await dev.close();
    }
  });
});

describe("npm start's exit status", () => {
  it("is wrangler dev's exit code", async () => {
    const run = start(["--port", "1"], { FAKE_DEV: "exit:3" });
    expect(await run.exited).toEqual({ code: 3, signal: null });
    expect(run.output()).toContain("[start] wrangler dev exited with code 3");
  });

  it("is 128 + the signal's number, not 0, when a signal kills wrangler dev", async () => {
    const run = start(["--port", "1"], { FAKE_DEV: "signal:KILL" });
    expect(await run.exited).toEqual({ code: 128 + 9, signal: null });
    expect(run.output()).toContain("[start] wrangler dev was killed by SIGKILL");
  });

  it("is the migrations' exit code when they fail, and wrangler dev is not started", async () => {
    const run = start(["--port", "1"], { FAKE_MIGRATE_EXIT: "4" });
    expect(await run.exited).toEqual({ code: 4, signal: null });
    expect(run.output()).toContain("[start] applying the D1 migrations failed: wrangler exited with code 4");
    expect(run.calls()).toEqual(["d1 migrations apply DB --local"]);
  });

  it("passes SIGTERM on to wrangler dev and leaves with its status", async () => {
    const dev = await fakeDev("127.0.0.1");
    try {
      const run = start(["--port", String(dev.port)]);
      await waitFor("a tick", () => dev.scheduled.length > 0, run.output);
      run.child.kill("SIGTERM"); // start.mjs only, not its process group
      expect(await run.exited).toEqual({ code: 0, signal: null });
      expect(run.calls()).toContain("dev stopped by TERM");
    } finally {
      await dev.close();
    }
  });

  it("reports clearly, with 127, when wrangler cannot be found", async () => {
    const run = start(["--port", "1"], { PATH: join(dir, "nowhere") });
    expect(await run.exited).toEqual({ code: 127, signal: null });
    expect(run.output()).toContain("[start] cannot run wrangler (spawn wrangler ENOENT): run `npm install`");
    expect(run.output()).not.toMatch(/^\s+at /m); // a message, not a stack trace
  });

  it("warns when a secret is passed with --var", async () => {
    const run = start(["--port", "1", "--var", "ALERT_WEBHOOK_SECRET:not-here", "--var", "SOURCES:kraken"], { FAKE_DEV: "exit:0" });
    expect(await run.exited).toEqual({ code: 0, signal: null });
    expect(run.output()).toContain("--var ALERT_WEBHOOK_SECRET puts a secret on the command line");
    expect(run.output()).not.toContain("--var SOURCES");
  });

  it("refuses a tick timeout that is not below the tick interval", async () => {
    const run = start(["--port", "1"], { TICK_TIMEOUT_SECONDS: "60", TICK_INTERVAL_SECONDS: "60" });
    expect(await run.exited).toEqual({ code: 2, signal: null });
    expect(run.output()).toContain("TICK_TIMEOUT_SECONDS (60) must be below the tick interval (60 s)");
    expect(run.calls()).toEqual([]);
  });
});

describe("local secrets", () => {
  it("live in git-ignored files (.dev.vars, .env): only the example is tracked", () => {
    const root = fileURLToPath(new URL("../../", import.meta.url));
    const ignored = (path: string) => spawnSync("git", ["check-ignore", "--quiet", "--no-index", path], { cwd: root }).status === 0;
    for (const path of [".dev.vars", ".dev.vars.production", ".env", ".env.local"]) expect(ignored(path), path).toBe(true);
    expect(ignored(".dev.vars.example")).toBe(false);
  });
});
