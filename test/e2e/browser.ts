/** Headless Chromium (Debian's package) driven by playwright-core. */
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
import { startTracker, type LocalServer, type Tracker } from "./harness";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Never skips: a machine without Chromium fails the browser tests, with the fix
 * in the message (.ci/run installs it in CI).
 */
export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium, or set CHROMIUM_PATH`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

export interface BrowserRig {
  upstream: LocalServer;
  tracker: Tracker;
  browser: Browser;
}

/**
 * Registers the hooks of a describe block that drives Chromium against
 * `npm start` reading one local Cryptowatch (`startUpstream`); the fields are
 * set once the block's tests run.
 */
export function cryptowatchInBrowser(startUpstream: () => Promise<LocalServer>): BrowserRig {
  const rig = {} as BrowserRig;
  beforeAll(async () => {
    rig.upstream = await startUpstream();
    rig.tracker = await startTracker({ vars: { SOURCES: "cryptowatch", CRYPTOWATCH_API_URL: rig.upstream.url } });
    rig.browser = await launchChromium();
  });
  afterAll(async () => {
    await rig.browser?.close();
    await rig.tracker?.stop();
    await rig.upstream?.close();
  });
  return rig;
}
