/**
 * Runs the tracker the way a developer does (`npm start`, i.e. migrations +
 * wrangler dev) against local HTTP servers playing the upstreams.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkAgainstOpenApi } from "../unit/openapi-check";

export type Handler = (request: IncomingMessage, url: URL) => { status?: number; body: unknown } | undefined;

export interface LocalServer {
  url: string;
  requests: { method: string; path: string; headers: IncomingMessage["headers"]; body: string }[];
  close(): Promise<void>;
}

/** A local HTTP server answering JSON from `handler` (404 JSON when it returns undefined). */
export async function startServer(handler: Handler): Promise<LocalServer> {
  const requests: LocalServer["requests"] = [];
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => {
      const url = new URL(request.url ?? "/", "http://localhost");
      requests.push({ method: request.method ?? "GET", path: url.pathname + url.search, headers: request.headers, body });
      const reply = handler(request, url) ?? { status: 404, body: { error: "Route not found" } };
      response.writeHead(reply.status ?? 200, { "content-type": "application/json" });
      response.end(typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A Cryptowatch response from test/fixtures/cryptowatch. */
export const cryptowatchFixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`../fixtures/cryptowatch/${name}`, import.meta.url), "utf8"));

/**
 * A local Cryptowatch: /markets/summaries answers `summaries()` (the fixture by
 * default), /pairs the two fixture pages, following the cursor.
 */
export function startCryptowatch(summaries: () => unknown = () => cryptowatchFixture("summaries.json")): Promise<LocalServer> {
  const pages = [cryptowatchFixture("pairs.json"), cryptowatchFixture("pairs-page2.json")];
  return startServer((_, url) => {
    if (url.pathname === "/markets/summaries") return { body: summaries() };
    if (url.pathname === "/pairs") return { body: url.searchParams.get("cursor") === "page2" ? pages[1] : pages[0] };
    return undefined;
  });
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export interface Tracker {
  url: string;
  output: () => string;
  /** Trigger the cron handler, as `curl /__scheduled?cron=*+*+*+*+*` does. */
  tick(): Promise<void>;
  get<T = any>(path: string, headers?: Record<string, string>): Promise<{ status: number; body: T; headers: Headers }>;
  stop(): Promise<void>;
}

/**
 * `npm start -- --port P --persist-to <tmp> --env-file <tmp>/.dev.vars --var K:V ...`
 * with AUTO_TICK=0, in its own process group so that stop() ends wrangler and
 * workerd too. Secrets go in that .dev.vars file, never on a command line
 * (where ps and npm's banner show them); it also keeps the developer's own
 * .dev.vars out of the tests.
 */
export async function startTracker(
  options: { vars?: Record<string, string>; secrets?: Record<string, string>; env?: Record<string, string>; persistTo?: string } = {},
): Promise<Tracker> {
  const port = await freePort();
  // A caller-provided state directory (e.g. seeded beforehand) is the caller's to remove.
  const state = options.persistTo ?? mkdtempSync(join(tmpdir(), "tracker-e2e-"));
  const devVars = join(state, ".dev.vars");
  writeFileSync(devVars, Object.entries(options.secrets ?? {}).map(([key, value]) => `${key}=${JSON.stringify(value)}\n`).join(""), { mode: 0o600 });
  const vars = Object.entries(options.vars ?? {}).flatMap(([key, value]) => ["--var", `${key}:${value}`]);
  const args = ["--port", String(port), "--persist-to", state, "--env-file", devVars, ...vars];
  const child: ChildProcess = spawn("npm", ["start", "--", ...args], {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, AUTO_TICK: "0", ...options.env },
  });
  let output = "";
  child.stdout?.on("data", (chunk) => (output += chunk));
  child.stderr?.on("data", (chunk) => (output += chunk));
  const url = `http://127.0.0.1:${port}`;

  const stop = async () => {
    if (child.exitCode === null && child.pid) {
      try {
        process.kill(-child.pid, "SIGTERM");
      } catch {}
      await new Promise((resolve) => {
        const timer = setTimeout(() => {
          try {
            process.kill(-child.pid!, "SIGKILL");
          } catch {}
          resolve(undefined);
        }, 5000);
        child.on("exit", () => {
          clearTimeout(timer);
          resolve(undefined);
        });
      });
    }
    if (!options.persistTo) rmSync(state, { recursive: true, force: true });
  };

  // The first wrangler dev start on a fresh machine is slow: poll generously.
  const deadline = Date.now() + 100_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`npm start exited with ${child.exitCode}:\n${output}`);
    }
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) break;
    } catch {}
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`npm start did not answer within 100 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
  }

  return {
    url,
    output: () => output,
    async tick() {
      const response = await fetch(`${url}/__scheduled?cron=*+*+*+*+*`);
      await response.arrayBuffer();
      if (!response.ok) throw new Error(`/__scheduled answered ${response.status}`);
    },
    async get(path, headers = {}) {
      const request = new Request(`${url}${path}`, { headers });
      const response = await fetch(request.clone());
      // Through wrangler dev too, every answer must be the one the OpenAPI document describes.
      await checkAgainstOpenApi(request, response);
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : undefined, headers: response.headers };
    },
    stop,
  };
}

/** What a source's fake upstream serves: test/fixtures/<name>/upstream.json. */
export interface Upstream {
  ticker: string;
  routes: Record<string, string>;
}

const FIXTURES = new URL("../fixtures/", import.meta.url);

/** A file of test/fixtures/ ("kraken/ticker.json"), parsed. */
export const fixture = (path: string) => JSON.parse(readFileSync(new URL(path, FIXTURES), "utf8"));

/**
 * Every source with fixtures, by name. The unit tests (sources.test.ts) fail a registered
 * source without them, so these are the registry's sources, read here without importing src/.
 */
export const SOURCE_UPSTREAMS: Readonly<Record<string, Upstream>> = Object.fromEntries(
  readdirSync(FIXTURES, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map(({ name }) => [name, fixture(`${name}/upstream.json`) as Upstream]),
);

/** The sources an unset SOURCES reads: every one but Cryptowatch, retired upstream (`retired` in the registry). */
export const LIVE_SOURCES = Object.keys(SOURCE_UPSTREAMS)
  .filter((name) => name !== "cryptowatch")
  .sort();
