#!/usr/bin/env node
/**
 * Copies the browser libraries the dashboard and /docs use from node_modules
 * into public/vendor/, so the Worker serves them as static assets (no CDN) at
 * the versions package-lock.json pins. wrangler runs this before `wrangler dev`
 * and `wrangler deploy` ([build] in wrangler.toml); vitest.config.ts runs it too.
 */
import { copyFileSync, mkdirSync } from "node:fs";
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

export function buildAssets() {
  mkdirSync(vendor, { recursive: true });
  for (const [from, to] of files) copyFileSync(join(root, "node_modules", from), join(vendor, to));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) buildAssets();
