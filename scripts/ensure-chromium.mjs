#!/usr/bin/env node
/**
 * `npm test` runs this first (pretest): the dashboard's browser tests drive
 * Debian's Chromium. On a Debian machine where we are root it is installed once
 * with apt-get; elsewhere this only says what to do, and the browser tests then
 * fail with the same advice (they never skip).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
if (!existsSync(chromium)) {
  const root = typeof process.getuid === "function" && process.getuid() === 0;
  const apt = spawnSync("sh", ["-c", "command -v apt-get"]).status === 0;
  if (root && apt) {
    console.error(`[pretest] ${chromium} is missing: installing Debian's chromium for the browser tests`);
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    for (const args of [["update"], ["install", "-y", "chromium"]]) {
      const result = spawnSync("apt-get", args, { stdio: "inherit", env });
      if (result.status !== 0) {
        console.error(`[pretest] apt-get ${args.join(" ")} failed: the browser tests will fail`);
        break;
      }
    }
  } else {
    console.error(`[pretest] Chromium not found at ${chromium}: install it (Debian: apt-get install chromium) or set CHROMIUM_PATH; the browser tests will fail`);
  }
}
