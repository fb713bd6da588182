#!/usr/bin/env node
/**
 * `npm start [-- <wrangler dev args>]`: apply the D1 migrations locally, run
 * `wrangler dev --test-scheduled`, and trigger the scheduled handler at the
 * start of every minute (wrangler dev never fires crons by itself), so the
 * local tracker collects data like the deployed one.
 *
 * Each triggered tick is bounded by a timeout; a tick that fails or hangs is
 * logged and the next minute ticks all the same. The exit status is
 * wrangler's: its exit code, 128 + the signal's number when a signal ended it
 * (as a shell reports it), 127 when wrangler cannot be started at all.
 *
 *   AUTO_TICK=0 npm start              no automatic ticks (tests and tools trigger their own)
 *   TICK_TIMEOUT_SECONDS=20 npm start  how long a triggered tick may take (default 50)
 *   TICK_INTERVAL_SECONDS              ticks per this many seconds (default 60; tests shorten it)
 */
import { spawn } from "node:child_process";
import { isIP } from "node:net";
import { constants } from "node:os";

const args = process.argv.slice(2);
const autoTick = process.env.AUTO_TICK !== "0";

function log(message) {
  console.log(`[start] ${message}`);
}

function warn(message) {
  console.error(`[start] ${message}`);
}

function fail(message, status) {
  warn(message);
  process.exit(status);
}

/** A positive number of seconds from the environment, in ms. */
function seconds(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback * 1000;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) fail(`${name} must be a number of seconds > 0, got "${raw}"`, 2);
  return value * 1000;
}

const tickIntervalMs = seconds("TICK_INTERVAL_SECONDS", 60);
const tickTimeoutMs = seconds("TICK_TIMEOUT_SECONDS", 50);
// A tick ends (or is given up) before the next one starts: runs never pile up.
if (tickTimeoutMs >= tickIntervalMs) {
  fail(`TICK_TIMEOUT_SECONDS (${tickTimeoutMs / 1000}) must be below the tick interval (${tickIntervalMs / 1000} s)`, 2);
}

/** The value of `--name value` or `--name=value` among wrangler's arguments. */
function option(name) {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === name) return args[i + 1];
    if (args[i].startsWith(`${name}=`)) return args[i].slice(name.length + 1);
  }
  return undefined;
}

/**
 * The host the ticker calls to reach wrangler dev listening on `ip`: the
 * loopback address of the same family for a wildcard address (0.0.0.0, ::),
 * the address itself otherwise (brackets around an IPv6 address in a URL).
 */
function tickerHost(ip) {
  // wrangler's default ip is "localhost", where it listens on 127.0.0.1.
  if (ip === undefined || ip === "localhost") return "127.0.0.1";
  const address = ip.replace(/^\[(.*)\]$/, "$1");
  switch (isIP(address)) {
    case 4:
      return address === "0.0.0.0" ? "127.0.0.1" : address;
    case 6: {
      const host = new URL(`http://[${address}]/`).hostname; // canonical: [::], [::1]...
      return host === "[::]" ? "[::1]" : host;
    }
    default:
      return address; // a host name
  }
}

// Names of the Worker's secrets (README, Configuration): never on a command line.
const SECRETS = ["ALERT_WEBHOOK_URL", "ALERT_WEBHOOK_SECRET", "CRYPTOWATCH_API_KEY"];
for (let i = 0; i < args.length; i++) {
  const value = args[i] === "--var" ? args[i + 1] : args[i].startsWith("--var=") ? args[i].slice(6) : undefined;
  const name = value?.split(":")[0];
  if (name && SECRETS.includes(name)) {
    warn(`warning: --var ${name} puts a secret on the command line, where ps and npm's banner show it; put it in .dev.vars instead (see the README)`);
  }
}

const port = Number(option("--port") ?? 8787);
const origin = `http://${tickerHost(option("--ip"))}:${port}`;
const scheduledUrl = `${origin}/__scheduled?cron=*+*+*+*+*`;
const persistTo = option("--persist-to");
const env = {
  // Local development needs no Cloudflare account and no network.
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  WRANGLER_SEND_METRICS: "false",
  ...process.env,
};

/** How a child's end reads as an exit status: its code, or 128 + the signal's number. */
const exitStatus = (code, signal) => (signal ? 128 + (constants.signals[signal] ?? 0) : code ?? 1);
const ending = (code, signal) => (signal ? `was killed by ${signal}` : `exited with code ${code}`);

let child = null;
let stopSignal = null;
// Ctrl-C, `kill`: pass the signal to wrangler and leave with its exit status.
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(signal, () => {
    stopSignal = signal;
    if (child) child.kill(signal);
    else process.exit(exitStatus(null, signal));
  });
}

/** Run `wrangler ...args` in the foreground; resolves with how it ended. */
function wrangler(commandArgs) {
  child = spawn("wrangler", commandArgs, { stdio: "inherit", env });
  child.once("error", (err) => {
    // ENOENT: not installed, or started without npm (which puts node_modules/.bin on PATH).
    const hint = err.code === "ENOENT" ? ": run `npm install`, then `npm start` (not `node scripts/start.mjs`)" : "";
    fail(`cannot run wrangler (${err.message})${hint}`, err.code === "ENOENT" ? 127 : 126);
  });
  return new Promise((resolve) =>
    child.once("exit", (code, signal) => {
      child = null;
      resolve({ code, signal });
    }),
  );
}

const migrated = await wrangler(["d1", "migrations", "apply", "DB", "--local", ...(persistTo ? ["--persist-to", persistTo] : [])]);
if (stopSignal) process.exit(exitStatus(migrated.code, migrated.signal));
if (migrated.code !== 0) {
  fail(`applying the D1 migrations failed: wrangler ${ending(migrated.code, migrated.signal)}`, exitStatus(migrated.code, migrated.signal));
}

wrangler(["dev", "--test-scheduled", ...args]).then(({ code, signal }) => {
  const status = exitStatus(code, signal);
  if (status !== 0 && !stopSignal) warn(`wrangler dev ${ending(code, signal)}`);
  process.exit(status);
});

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const clock = (ms) => new Date(ms).toISOString().slice(11, 19);

/** Why a fetch failed, in a line: "timed out after 50 s", "connect ECONNREFUSED 127.0.0.1:8787"... */
function reason(err) {
  if (err?.name === "TimeoutError") return `timed out after ${tickTimeoutMs / 1000} s`;
  return err?.cause?.message ?? err?.message ?? String(err);
}

/** Trigger the scheduled handler once, within the tick timeout; logs a failure, never throws. */
async function tick() {
  const started = Date.now();
  try {
    const response = await fetch(scheduledUrl, { signal: AbortSignal.timeout(tickTimeoutMs) });
    const body = await response.text();
    if (!response.ok) warn(`tick ${clock(started)} failed: HTTP ${response.status} ${body.replace(/\s+/g, " ").slice(0, 200)}`);
  } catch (err) {
    warn(`tick ${clock(started)} failed: ${reason(err)}; the next tick is at ${clock(nextTickAt())}`);
  }
}

const nextTickAt = () => (Math.floor(Date.now() / tickIntervalMs) + 1) * tickIntervalMs;

/** Resolves once wrangler dev answers HTTP at all (any status). */
async function listening() {
  const started = Date.now();
  let warned = false;
  for (;;) {
    try {
      const response = await fetch(`${origin}/health`, { signal: AbortSignal.timeout(tickTimeoutMs) });
      await response.arrayBuffer();
      return;
    } catch (err) {
      if (!warned && Date.now() - started > 120_000) {
        warn(`wrangler dev has not answered at ${origin} for 2 minutes (${reason(err)}); still trying`);
        warned = true;
      }
    }
    await sleep(500);
  }
}

if (autoTick) {
  // First tick as soon as wrangler dev answers, then one at the start of every
  // minute, whether or not the previous one succeeded.
  await listening();
  log(`ticking at the start of every ${tickIntervalMs === 60_000 ? "minute" : `${tickIntervalMs / 1000} s`} (${scheduledUrl}, ${tickTimeoutMs / 1000} s timeout); AUTO_TICK=0 turns this off`);
  const schedule = () =>
    setTimeout(() => {
      schedule();
      void tick();
    }, nextTickAt() - Date.now() + 50);
  void tick();
  schedule();
}
