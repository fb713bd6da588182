/**
 * One symbol rule for everything (src/lib/symbol.ts): a source never creates a
 * metric the API would refuse, ASCII is checked before case-folding, and a
 * market's identity keeps base and quote apart.
 */
import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { runScheduled } from "../../src/ingest/tick";
import { assetCode, foldSymbol, isSymbol, marketKey, pairSymbol } from "../../src/lib/symbol";
import { normaliseAsset, normalisePair } from "../../src/sources/aliases";
import { fakeExchanges } from "./exchanges";
import { fixtures, getJson, jsonResponse, resetDatabase, setNow, summariesBody, T0 } from "./helpers";

beforeEach(resetDatabase);
afterEach(() => vi.restoreAllMocks());

describe("the grammar", () => {
  it.each(["btc", "btceur", "1inch", "a", "usd-perp", "b.c", "x_y", "a".repeat(64)])("%s is a symbol", (name) => {
    expect(isSymbol(name)).toBe(true);
  });

  it.each(["", "BTC", "-btc", ".btc", "b c", "b/c", "b%c", "bτc", "ſhib", "a".repeat(65), "btc\n"])("%j is not", (name) => {
    expect(isSymbol(name)).toBe(false);
  });

  it("ASCII is checked before case-folding: ſ (long s) and K (Kelvin sign) never become s and k", () => {
    expect("ſhib".toUpperCase()).toBe("SHIB"); // what folding first would do
    expect("\u212Abtc".toLowerCase()).toBe("kbtc");
    expect(assetCode("ſhib")).toBeUndefined();
    expect(assetCode("\u212ABTC")).toBeUndefined();
    expect(normaliseAsset("okx", "ſhib")).toBeUndefined();
    expect(normalisePair("okx", "ſHIB", "USDT")).toBeUndefined();
    expect(foldSymbol("ſhibusd")).toBeUndefined();
    expect(foldSymbol("\u212Abtc")).toBeUndefined();
    expect(assetCode(" shib ")).toBe("SHIB");
    expect(foldSymbol("SHIBUSD")).toBe("shibusd");
  });

  it("a pair longer than 64 characters is no symbol, though each half is", () => {
    expect(pairSymbol("a".repeat(40), "b".repeat(24))).toBe("a".repeat(40) + "b".repeat(24));
    expect(pairSymbol("a".repeat(40), "b".repeat(25))).toBeUndefined();
    expect(normalisePair("okx", "A".repeat(40), "B".repeat(25))).toBeUndefined();
  });

  it("market identity keeps base and quote apart", () => {
    expect(pairSymbol("ab", "cd")).toBe(pairSymbol("abc", "d"));
    expect(marketKey({ exchange: "kraken", base: "ab", quote: "cd" })).not.toBe(marketKey({ exchange: "kraken", base: "abc", quote: "d" }));
    expect(marketKey({ exchange: "kraken", base: "ab", quote: "cd" })).toBe(marketKey({ exchange: "kraken", base: "ab", quote: "cd" }));
    // Nor can a separator inside a name forge another identity.
    expect(marketKey({ exchange: "a:b", base: "c", quote: "d" })).not.toBe(marketKey({ exchange: "a", base: "b:c", quote: "d" }));
  });
});

describe("Cryptowatch follows the same rule", () => {
  const hostileKeys = {
    "kraken:btc/usd": [1, 1, 1],
    "kraken:btc%2fusd": [1, 1, 1],
    "kraken:ſhibusd": [1, 1, 1],
    "kraken:bτcusd": [1, 1, 1],
    [`kraken:${"a".repeat(10 * 1024)}`]: [1, 1, 1],
    "kraken:<script>": [1, 1, 1],
    "kraken:BTCEUR": [50000, 10, 500000], // upper case is folded: btceur
    "kraken:xyzusd": [2, 3, 6], // /pairs gives it a unicode base symbol
  } as Record<string, [unknown, unknown, unknown]>;

  function fake() {
    return fakeExchanges({
      "cryptowatch.test/markets/summaries": () => jsonResponse(summariesBody(hostileKeys)),
      "cryptowatch.test/pairs": (request) => {
        if (new URL(request.url).searchParams.has("cursor")) return jsonResponse(fixtures.pairs[1]);
        const extra = { id: 1, symbol: "xyzusd", base: { symbol: "xyż" }, quote: { symbol: "usd" }, route: "" };
        return jsonResponse({ ...fixtures.pairs[0], result: [...fixtures.pairs[0]!.result, extra] });
      },
    });
  }

  it("pair names outside the grammar are dropped as unsupported_symbol, never become metrics", async () => {
    fake();
    const outcome = await runScheduled({ ...env, SOURCES: "cryptowatch" }, T0);
    expect(outcome.status).toBe("stored");
    const cryptowatch = outcome.status === "stored" ? outcome.sources[0]! : undefined;
    // 6 keys outside the grammar, and xyzusd whose base is not ASCII.
    expect(cryptowatch).toMatchObject({ status: "ok", markets: 1, dropped: { unsupported_symbol: 7 } });

    setNow(T0 + 30_000);
    for (const type of ["price", "volume"]) {
      const { body } = await getJson(`/metric_types/${type}/metrics`);
      const symbols = body.metrics.map((m: { symbol: string }) => m.symbol);
      expect(symbols).toEqual(type === "price" ? ["btceur"] : ["btc", "eur"]);
      // Everything /metrics lists, /history serves.
      for (const symbol of symbols) expect((await getJson(`/metric_types/${type}/metrics/${symbol}/history`)).status).toBe(200);
    }
  });

  it("the API refuses a Kelvin-sign K or a long s rather than folding them to ASCII", async () => {
    expect((await getJson("/metric_types/price/metrics/%E2%84%AAbtc")).status).toBe(400);
    expect((await getJson("/metric_types/volume/metrics/%C5%BFhib")).status).toBe(400);
    expect((await getJson("/alerts?symbol=%C5%BFhib")).status).toBe(400);
  });
});
