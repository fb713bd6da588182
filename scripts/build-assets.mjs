#!/usr/bin/env node
/**
 * Copies the browser libraries the dashboard and /docs use from node_modules
 * into public/vendor/, so the Worker serves them as static assets (no CDN) at
 * the versions package-lock.json pins. wrangler runs this before `wrangler dev`
 * and `wrangler deploy` ([build] in wrangler.toml); vitest.config.ts runs it too.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const vendor = join(root, "public", "vendor");

const files = [
  ["uplot/dist/uPlot.iife.min.js", "uplot.min.js"],
  ["uplot/dist/uPlot.min.css", "uplot.min.css"],
  ["uplot/LICENSE", "uplot.LICENSE.txt"],
  ["swagger-ui-dist/swagger-ui-bundle.js", "swagger-ui-bundle.js"],
  ["swagger-ui-dist/swagger-ui.css", "swagger-ui.css"],
  ["swagger-ui-dist/LICENSE", "swagger-ui.LICENSE.txt"],
  ["swagger-ui-dist/NOTICE", "swagger-ui.NOTICE.txt"],
];

/**
 * Files already up to date are left alone, and others are replaced by a
 * rename: several `wrangler dev` (parallel e2e tests) may build while another
 * already serves these files, and none may see a half-written one.
 */
export function buildAssets() {
  mkdirSync(vendor, { recursive: true });
  for (const [from, to] of files) {
    const source = join(root, "node_modules", from);
    const target = join(vendor, to);
    if (existsSync(target) && readFileSync(target).equals(readFileSync(source))) continue;
    const partial = `${target}.${process.pid}.tmp`;
    copyFileSync(source, partial);
    renameSync(partial, target);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) buildAssets();
