import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");
const README_MAX_BYTES = 15_000;

/** The README and every page of docs/, as paths relative to the repository. */
const pages = ["README.md", ...readdirSync(join(root, "docs")).filter((name) => name.endsWith(".md")).map((name) => `docs/${name}`)];

/** Markdown link and image targets outside code (fenced blocks and inline code are left out). */
export function linkTargets(markdown: string): string[] {
  const prose = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "").replace(/`[^`\n]*`/g, "");
  return [...prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((match) => match[1]!);
}

const isRelative = (target: string) => !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith("#") && !target.startsWith("//");

describe("documentation", () => {
  it(`README.md stays under ${README_MAX_BYTES.toLocaleString("en-US")} bytes`, () => {
    expect(statSync(join(root, "README.md")).size).toBeLessThan(README_MAX_BYTES);
  });

  it("finds links the way the check below relies on", () => {
    const sample = "See [a](docs/a.md#x), ![img](b.png \"t\"), [web](https://x.test), `[code](c.md)`.\n```\n[fenced](d.md)\n```\n";
    expect(linkTargets(sample)).toEqual(["docs/a.md#x", "b.png", "https://x.test"]);
  });

  it.each(pages)("every relative link of %s resolves to a file", (page) => {
    const text = readFileSync(join(root, page), "utf8");
    const missing = linkTargets(text)
      .filter(isRelative)
      .map((target) => decodeURIComponent(target.split("#")[0]!))
      .filter((path) => path !== "" && !existsSync(resolve(root, dirname(page), path)));
    expect(missing).toEqual([]);
  });

  it("links every page of docs/ from the README or another page", () => {
    const linked = new Set<string>();
    for (const page of pages) {
      for (const target of linkTargets(readFileSync(join(root, page), "utf8")).filter(isRelative)) {
        linked.add(join(dirname(page), target.split("#")[0]!));
      }
    }
    expect(pages.filter((page) => page !== "README.md" && !linked.has(page))).toEqual([]);
  });
});
