/**
 * The pages' Content-Security-Policy in a real browser: through `npm start`
 * (wrangler dev serves public/ with public/_headers, as deployed), the
 * dashboard at / and /dashboard and the API reference at /docs load and render
 * without a single policy violation.
 */
import { describe, expect, it } from "vitest";
import { cryptowatchInBrowser } from "./browser";
import { startCryptowatch } from "./harness";

describe("security headers in Chromium", () => {
  const rig = cryptowatchInBrowser(() => startCryptowatch());


  it.each([
    ["/", "body[data-ready=true]"],
    ["/dashboard", "body[data-ready=true]"],
    ["/docs", ".opblock"],
  ])("%s renders under its policy, with no violation", async (path, rendered) => {
    const page = await rig.browser.newPage();
    const problems: string[] = [];
    page.on("pageerror", (err) => problems.push(`error: ${err.message}`));
    page.on("console", (message) => {
      if (message.type() === "error" && /Content Security Policy/i.test(message.text())) problems.push(message.text());
    });
    // Violations the console might not show (a blocked style attribute, say).
    await page.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (event) => {
        (window as any).violations = [...((window as any).violations ?? []), `${event.violatedDirective} ${event.blockedURI}`];
      });
    });
    const response = await page.goto(`${rig.tracker.url}${path}`);
    expect(response?.status()).toBe(200);
    const headers = response!.headers();
    expect(headers["content-security-policy"]).toMatch(/script-src 'self'/);
    expect(headers["x-frame-options"]).toBe("DENY");
    expect(headers["x-content-type-options"]).toBe("nosniff");
    await page.waitForSelector(rendered, { timeout: 30_000 });
    problems.push(...((await page.evaluate(() => (window as any).violations)) ?? []));
    expect(problems).toEqual([]);
    await page.close();
  });
});
