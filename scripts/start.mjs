#!/usr/bin/env node
/**
 * `npm start [-- <wrangler dev args>]`: apply the D1 migrations locally, run
 * `wrangler dev --test-scheduled`, and trigger the scheduled handler at the
 * start of every minute (wrangler dev never fires crons by itself), so the
 * local tracker collects data like the deployed one.
 *
 *   AUTO_TICK=0 npm start   no automatic ticks (tests and tools trigger their own)
 */
import { spawn } from "node:child_process";

const args = process.argv.slice(2);
const autoTick = process.env.AUTO_TICK !== "0";

function option(name) {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === name) return args[i + 1];
    if (args[i].startsWith(`${name}=`)) return args[i].slice(name.length + 1);
  }
  return undefined;
}

const port = Number(option("--port") ?? 8787);
const host = option("--ip") && option("--ip") !== "0.0.0.0" ? option("--ip") : "127.0.0.1";
const persistTo = option("--persist-to");
const env = {
  // Local development needs no Cloudflare account and no network.
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_METRICS: "false",
  ...process.env,
};

function run(command, commandArgs) {
  return spawn(command, commandArgs, { stdio: "inherit", env });
}

function log(message) {
  console.log(`[start] ${message}`);
}

const migrate = run("wrangler", [
  "d1",
  "migrations",
  "apply",
  "DB",
  "--local",
  ...(persistTo ? ["--persist-to", persistTo] : []),
]);
const migrated = await new Promise((resolve) => migrate.on("exit", (code) => resolve(code === 0)));
if (!migrated) {
  console.error("[start] applying the D1 migrations failed");
  process.exit(1);
}

const dev = run("wrangler", ["dev", "--test-scheduled", ...args]);
let stopping = false;
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    stopping = true;
    dev.kill(signal);
  });
}
dev.on("exit", (code, signal) => {
  if (!stopping && code !== 0) console.error(`[start] wrangler dev exited (${signal ?? code})`);
  process.exit(code ?? 0);
});

const scheduledUrl = `http://${host}:${port}/__scheduled?cron=*+*+*+*+*`;

async function tick() {
  try {
    const response = await fetch(scheduledUrl);
    await response.arrayBuffer();
    if (!response.ok) log(`tick: HTTP ${response.status}`);
    return response.ok;
  } catch {
    return false; // not listening yet
  }
}

if (autoTick) {
  // First tick as soon as wrangler dev answers, then one at the start of every minute.
  const started = Date.now();
  while (!(await tick())) {
    if (Date.now() - started > 120_000) {
      log("wrangler dev did not answer within 2 minutes; no automatic ticks");
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  log(`ticking at the start of every minute (${scheduledUrl}); AUTO_TICK=0 turns this off`);
  const schedule = () => setTimeout(() => tick().finally(schedule), 60_000 - (Date.now() % 60_000) + 50);
  schedule();
}
