/**
 * `npm run deploy` (scripts/deploy.mjs) against a fake `wrangler` put first on
 * PATH: a small Node program that records every call, keeps the account's
 * state (login, databases, queues, applied migrations, deploys) in a JSON file,
 * answers as wrangler does (JSON for `--json`, wrangler's error texts) and
 * fails on demand (FAIL_AT=<command prefix>, FAIL_STATUS=<status>).
 */
import { spawn } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const repo = new URL("../..", import.meta.url).pathname;
const script = join(repo, "scripts/deploy.mjs");

const FAKE_WRANGLER = String.raw`
import { appendFileSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
const argv = process.argv.slice(2);
const command = argv.join(" ");
appendFileSync(process.env.FAKE_LOG, JSON.stringify(argv) + "\n");
const state = JSON.parse(readFileSync(process.env.FAKE_STATE, "utf8"));
const save = () => writeFileSync(process.env.FAKE_STATE, JSON.stringify(state));
const fail = (message, status = 1) => {
  console.error("✘ [ERROR] " + message);
  process.exit(status);
};
if (process.env.FAIL_AT && command.startsWith(process.env.FAIL_AT)) fail("the fake failed here, as asked", Number(process.env.FAIL_STATUS ?? 1));
if (command === "whoami --json") {
  if (!state.loggedIn) {
    console.log(JSON.stringify({ loggedIn: false }));
    process.exit(1);
  }
  console.log(JSON.stringify({ loggedIn: true, authType: "OAuth Token", email: "operator@example.com", accounts: [] }));
  process.exit(0);
}
if (!state.loggedIn && !process.env.CLOUDFLARE_API_TOKEN) {
  fail("In a non-interactive environment, it's necessary to set a CLOUDFLARE_API_TOKEN environment variable for wrangler to work.");
}
if (state.tokenRefused && process.env.CLOUDFLARE_API_TOKEN) fail("A request to the Cloudflare API failed.\n  Authentication error [code: 10000]");
const [a, b, c] = argv;
if (a === "d1" && b === "list") {
  console.log(JSON.stringify(state.databases.map((name, i) => ({ uuid: "uuid-" + i, name }))));
} else if (a === "d1" && b === "create") {
  if (state.databases.includes(c)) fail("A database with that name already exists");
  state.databases.push(c);
  console.log("✅ Successfully created DB '" + c + "'");
} else if (a === "queues" && b === "info") {
  if (!state.queues.includes(c)) fail('Queue "' + c + '" does not exist. To create it, run: wrangler queues create ' + c);
  console.log("Queue Name: " + c);
} else if (a === "queues" && b === "create") {
  if (state.queues.includes(c)) fail("Queue name already taken [code: 11009]");
  state.queues.push(c);
  console.log("✅ Created queue " + c);
} else if (command === "d1 migrations apply " + argv[3] + " --remote") {
  if (!state.databases.includes(argv[3])) fail("Couldn't find a D1 DB named '" + argv[3] + "'. Run 'wrangler d1 create " + argv[3] + "' to create it.");
  const pending = readdirSync("migrations").filter((f) => f.endsWith(".sql")).sort().filter((f) => !state.migrations.includes(f));
  if (pending.length === 0) console.log("✅ No migrations to apply!");
  for (const name of pending) console.log("✅ " + name);
  state.migrations.push(...pending);
} else if (command === "deploy") {
  if (state.databases.length === 0) fail("no database");
  for (const q of state.expectedQueues) if (!state.queues.includes(q)) fail('Queue "' + q + '" does not exist.');
  state.deploys += 1;
  console.log("Uploaded crypto-data-tracker (3.1 sec)\nDeployed crypto-data-tracker triggers (1.2 sec)\n  https://crypto-data-tracker.operator.workers.dev\n  schedule: * * * * *\nCurrent Version ID: v" + state.deploys);
} else {
  fail("the fake does not know: wrangler " + command);
}
save();
`;

// The queues of wrangler.toml, by hand: two producers, their consumers and dead-letter queues.
const QUEUES = ["alert-deliveries", "alert-deliveries-dlq", "alert-ticks", "alert-ticks-dlq"];
const MIGRATIONS = readdirSync(join(repo, "migrations")).filter((f) => f.endsWith(".sql")).sort();

interface State {
  loggedIn: boolean;
  tokenRefused?: boolean;
  databases: string[];
  queues: string[];
  migrations: string[];
  deploys: number;
  expectedQueues: string[];
}

let dir: string;
const statePath = () => join(dir, "state.json");
const readState = (): State => JSON.parse(readFileSync(statePath(), "utf8"));
const writeState = (patch: Partial<State>) =>
  writeFileSync(statePath(), JSON.stringify({ loggedIn: true, databases: [], queues: [], migrations: [], deploys: 0, expectedQueues: QUEUES, ...patch }));
/** The calls the fake received, as command lines. */
const calls = () =>
  readFileSync(join(dir, "calls.log"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => (JSON.parse(line) as string[]).join(" "));

function deploy(env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const { CLOUDFLARE_API_TOKEN: _, ...inherited } = process.env;
  const child = spawn(process.execPath, [script], {
    cwd: repo,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...inherited, PATH: `${dir}/bin:${process.env.PATH}`, FAKE_STATE: statePath(), FAKE_LOG: join(dir, "calls.log"), ...env },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  return new Promise((resolve) => child.on("close", (status) => resolve({ status, stdout, stderr })));
}

const infoAndCreate = (queue: string) => [`queues info ${queue}`, `queues create ${queue}`];

describe("npm run deploy", () => {
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "deploy-test-"));
    const bin = join(dir, "bin");
    writeFileSync(join(dir, "fake-wrangler.mjs"), FAKE_WRANGLER);
    writeFileSync(join(dir, "calls.log"), "");
    mkdirSync(bin);
    writeFileSync(join(bin, "wrangler"), `#!/bin/sh\nexec "${process.execPath}" "${join(dir, "fake-wrangler.mjs")}" "$@"\n`);
    chmodSync(join(bin, "wrangler"), 0o755);
    writeState({});
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("deploys a fresh account in order: database, queues, migrations, then the code; prints the URL and next steps", async () => {
    const config = readFileSync(join(repo, "wrangler.toml"), "utf8");
    const result = await deploy();
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const made = calls();
    expect(made.slice(0, 3)).toEqual(["whoami --json", "d1 list --json", "d1 create crypto-data-tracker"]);
    // Every queue is looked up, then created, before the migrations.
    expect(made.slice(3, 11).sort()).toEqual(QUEUES.flatMap(infoAndCreate).sort());
    for (const queue of QUEUES) expect(made.indexOf(`queues create ${queue}`)).toBe(made.indexOf(`queues info ${queue}`) + 1);
    expect(made.slice(11)).toEqual(["d1 migrations apply crypto-data-tracker --remote", "deploy"]);

    const state = readState();
    expect(state.databases).toEqual(["crypto-data-tracker"]);
    expect([...state.queues].sort()).toEqual(QUEUES);
    expect(state.migrations).toEqual(MIGRATIONS);
    expect(state.deploys).toBe(1);

    expect(result.stdout).toContain("[deploy] deployed: https://crypto-data-tracker.operator.workers.dev");
    expect(result.stdout).toContain("npm run smoke -- https://crypto-data-tracker.operator.workers.dev");
    expect(result.stdout).toContain("npx wrangler secret put ALERT_WEBHOOK_URL");
    expect(result.stdout).toMatch(/custom domain/);
    // Nothing written back: no id in wrangler.toml, before or after.
    expect(readFileSync(join(repo, "wrangler.toml"), "utf8")).toBe(config);
    expect(config).not.toMatch(/^\s*database_id\s*=/m);
  });

  it("is idempotent: a second run creates nothing, applies no migration and deploys the code again", async () => {
    expect((await deploy()).status).toBe(0);
    const first = readState();
    writeFileSync(join(dir, "calls.log"), "");

    const second = await deploy();
    expect(second.status).toBe(0);
    const made = calls();
    expect(made.slice(0, 2)).toEqual(["whoami --json", "d1 list --json"]);
    expect(made.slice(2, 6).sort()).toEqual(QUEUES.map((q) => `queues info ${q}`));
    expect(made.slice(6)).toEqual(["d1 migrations apply crypto-data-tracker --remote", "deploy"]);
    expect(second.stdout).toContain("No migrations to apply");
    expect(readState()).toEqual({ ...first, deploys: 2 });
  });

  it("creates only what a partial earlier run left missing", async () => {
    writeState({ databases: ["crypto-data-tracker"], queues: ["alert-ticks", "alert-ticks-dlq"] });
    expect((await deploy()).status).toBe(0);
    expect(calls().filter((c) => c.includes("create")).sort()).toEqual(["queues create alert-deliveries", "queues create alert-deliveries-dlq"]);
    expect([...readState().queues].sort()).toEqual(QUEUES);
  });

  it("stops on a failing migration with wrangler's status, names the step, and deploys nothing", async () => {
    const result = await deploy({ FAIL_AT: "d1 migrations apply", FAIL_STATUS: "7" });
    expect(result.status).toBe(7);
    expect(result.stderr).toContain('step "migrations" failed: `wrangler d1 migrations apply crypto-data-tracker --remote` exited with status 7');
    expect(result.stderr).toContain("nothing was deployed");
    expect(calls()).not.toContain("deploy");
    expect(readState().deploys).toBe(0);
  });

  it.each([
    ["database", "d1 list"],
    ["database", "d1 create"],
    ["queues", "queues info"],
    ["queues", "queues create"],
    ["deploy", "deploy"],
  ])('a failing step "%s" (wrangler %s) stops the run there with its status', async (step, failAt) => {
    const result = await deploy({ FAIL_AT: failAt, FAIL_STATUS: "3" });
    expect(result.status).toBe(3);
    expect(result.stderr).toContain(`step "${step}" failed: \`wrangler ${failAt}`);
    const made = calls();
    // The failing call is the last one.
    expect(made.at(-1)!.startsWith(failAt)).toBe(true);
    expect(made.filter((c) => c.startsWith(failAt))).toHaveLength(1);
    if (step !== "deploy") expect(readState().deploys).toBe(0);
  });

  it("without a login, says to run `npx wrangler login` and calls nothing else", async () => {
    writeState({ loggedIn: false });
    const result = await deploy();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('step "login" failed');
    expect(result.stderr).toContain("run `npx wrangler login`");
    expect(calls()).toEqual(["whoami --json"]);
  });

  it("with an API token that is refused, the failing step's auth error leads to the same advice", async () => {
    writeState({ loggedIn: false, tokenRefused: true });
    const result = await deploy({ CLOUDFLARE_API_TOKEN: "refused-token" });
    expect(result.status).toBe(1);
    expect(calls()).toEqual(["d1 list --json"]);
    expect(result.stderr).toContain('step "database" failed');
    expect(result.stderr).toContain("run `npx wrangler login`, or set CLOUDFLARE_API_TOKEN");
  });

  it("is what `npm run deploy` runs", () => {
    const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8"));
    expect(pkg.scripts.deploy).toBe("node scripts/deploy.mjs");
  });
});
