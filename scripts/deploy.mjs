#!/usr/bin/env node
/**
 * `npm run deploy`: the whole deployment, after `npx wrangler login` (or with
 * CLOUDFLARE_API_TOKEN set), in named steps:
 *
 *   login       `wrangler whoami --json` (skipped with an API token: the steps say it)
 *   database    `wrangler d1 list --json`; `wrangler d1 create <name>` when the account lacks it
 *   queues      `wrangler queues info <q>` for every queue of wrangler.toml; `wrangler queues create <q>` when missing
 *   migrations  `wrangler d1 migrations apply <name> --remote`, before the new code goes live
 *   deploy      `wrangler deploy`, then the URL and what to do next
 *
 * wrangler.toml binds the database by name, without an id: wrangler resolves it
 * by name for the migrations and the deploy, so nothing is written back to it.
 * A second run creates nothing and applies no migration: only the code changes.
 * A failed step stops the run with wrangler's exit status and names the step;
 * nothing is deployed after a failed step.
 *
 * wrangler is the one on PATH (npm puts node_modules/.bin there); it runs
 * without a terminal, so it never prompts (migrations are applied without
 * asking, as in CI).
 */
import { spawn } from "node:child_process";
import { constants } from "node:os";
import { fileURLToPath } from "node:url";

// wrangler.toml and the migrations are the repository's, wherever this is started from.
process.chdir(fileURLToPath(new URL("..", import.meta.url)));

function log(message) {
  console.log(`[deploy] ${message}`);
}

function warn(message) {
  console.error(`[deploy] ${message}`);
}

/** What wrangler prints when it has no credentials or they are refused. */
const AUTH_ERROR = /not authenticated|not logged in|CLOUDFLARE_API_TOKEN|Authentication error|\[code: 10000\]|Invalid access token|wrangler login/i;

/** How a child's end reads as an exit status: its code, or 128 + the signal's number. */
const exitStatus = (code, signal) => (signal ? 128 + (constants.signals[signal] ?? 0) : code ?? 1);

/**
 * Runs `wrangler ...args`; resolves with its status and output. The output is
 * shown as it comes (`show`), or only kept (failed() shows it).
 */
function wrangler(args, { show = true } = {}) {
  return new Promise((resolve) => {
    const child = spawn("wrangler", args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
      if (show) process.stdout.write(chunk);
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
      if (show) process.stderr.write(chunk);
    });
    child.once("error", (err) => {
      const hint = err.code === "ENOENT" ? ": run `npm install`, then `npm run deploy` (not `node scripts/deploy.mjs`)" : "";
      warn(`cannot run wrangler (${err.message})${hint}`);
      process.exit(err.code === "ENOENT" ? 127 : 126);
    });
    child.once("close", (code, signal) => resolve({ status: exitStatus(code, signal), stdout, stderr, shown: show }));
  });
}

/** Stops the run: names the step and the command, says whether anything was deployed, leaves with wrangler's status. */
function failed(step, args, result) {
  if (!result.shown) {
    process.stdout.write(result.stdout);
    process.stderr.write(result.stderr);
  }
  warn(`step "${step}" failed: \`wrangler ${args.join(" ")}\` exited with status ${result.status}`);
  const output = result.stdout + result.stderr;
  if (step === "login" || AUTH_ERROR.test(output)) {
    warn("wrangler is not logged in (or its token is refused): run `npx wrangler login`, or set CLOUDFLARE_API_TOKEN, then `npm run deploy` again");
  }
  if (/more than one account/i.test(output)) {
    warn("your login has several accounts: set CLOUDFLARE_ACCOUNT_ID to the one to deploy to");
  }
  if (step !== "deploy") warn("nothing was deployed: the Worker in place (if any) is unchanged");
  process.exit(result.status);
}

/** Runs one wrangler command of a step; a failure ends the run. */
async function run(step, args, options) {
  const result = await wrangler(args, options);
  if (result.status !== 0) failed(step, args, result);
  return result;
}

/** The names the deployment needs, read from wrangler.toml (one copy of them). */
function readConfig() {
  const { rawConfig } = experimental_readRawConfig({ config: "wrangler.toml" });
  const database = rawConfig.d1_databases?.find((d) => d.binding === "DB");
  if (!database?.database_name) throw new Error("wrangler.toml has no D1 binding DB with a database_name");
  const queues = new Set();
  for (const producer of rawConfig.queues?.producers ?? []) queues.add(producer.queue);
  for (const consumer of rawConfig.queues?.consumers ?? []) {
    queues.add(consumer.queue);
    if (consumer.dead_letter_queue) queues.add(consumer.dead_letter_queue);
  }
  return { databaseName: database.database_name, queues: [...queues] };
}

/** The JSON wrangler printed on stdout (a `--json` command), ignoring anything before it. */
function parseJson(stdout) {
  const start = stdout.search(/[[{]/);
  return JSON.parse(start < 0 ? stdout : stdout.slice(start));
}

// wrangler's own reader of wrangler.toml (the version package.json pins).
const { experimental_readRawConfig } = await import("wrangler").catch((err) => {
  warn(`cannot load wrangler (${err.message}): run \`npm install\` first`);
  process.exit(127);
});

let databaseName, queues;
try {
  ({ databaseName, queues } = readConfig());
} catch (err) {
  warn(`cannot read wrangler.toml: ${err.message}`);
  process.exit(2);
}

// login
if (process.env.CLOUDFLARE_API_TOKEN) {
  log("login: using CLOUDFLARE_API_TOKEN");
} else {
  const whoami = await wrangler(["whoami", "--json"], { show: false });
  if (whoami.status !== 0) failed("login", ["whoami", "--json"], whoami);
  const account = parseJson(whoami.stdout);
  log(`login: ${account.email ?? "logged in"}`);
}

// database
const listArgs = ["d1", "list", "--json"];
const databases = parseJson((await run("database", listArgs, { show: false })).stdout);
if (databases.some((db) => db.name === databaseName)) {
  log(`database: "${databaseName}" exists`);
} else {
  log(`database: creating "${databaseName}"`);
  await run("database", ["d1", "create", databaseName]);
}

// queues
for (const queue of queues) {
  const args = ["queues", "info", queue];
  const info = await wrangler(args, { show: false });
  if (info.status === 0) {
    log(`queue: "${queue}" exists`);
    continue;
  }
  if (!/does not exist/i.test(info.stdout + info.stderr)) failed("queues", args, info);
  log(`queue: creating "${queue}"`);
  await run("queues", ["queues", "create", queue]);
}

// migrations, before the code that needs them goes live
log(`migrations: applying to "${databaseName}" (remote)`);
await run("migrations", ["d1", "migrations", "apply", databaseName, "--remote"]);

// deploy
log("deploy: uploading the Worker");
const deployed = await run("deploy", ["deploy"]);

const output = deployed.stdout + deployed.stderr;
const urls = [
  ...new Set([
    ...(output.match(/https:\/\/[^\s'"`]+\.workers\.dev\b/g) ?? []),
    ...[...output.matchAll(/^\s*(\S+) \(custom domain\)/gm)].map((m) => `https://${m[1]}`),
  ]),
];
if (urls.length > 0) {
  log(`deployed: ${urls.join(", ")}`);
} else {
  log("deployed (wrangler printed no URL: the Worker's page in the Cloudflare dashboard has it)");
}
const url = urls.find((u) => !u.endsWith(".workers.dev")) ?? urls[0] ?? "<url>";
console.log(`
Next:
  - Check it once it has ticked (within two minutes): npm run smoke -- ${url}
  - Alerts: npx wrangler secret put ALERT_WEBHOOK_URL (and ALERT_WEBHOOK_SECRET);
    without them alerts are stored, not delivered.
  - Edge cache: the Cache API does nothing on *.workers.dev; add a custom domain
    (routes in wrangler.toml, an example is there) and run npm run deploy again.
  - Plan: seven sources need the Workers Paid plan (README, "Deploy").`);
