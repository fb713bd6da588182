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

  it("market identity keeps base and quote apart, and two pairs of one base and quote apart", () => {
    expect(pairSymbol("ab", "cd")).toBe(pairSymbol("abc", "d"));
    expect(marketKey({ exchange: "kraken", pair: "abcd", base: "ab", quote: "cd" }))
      .not.toBe(marketKey({ exchange: "kraken", pair: "abcd", base: "abc", quote: "d" }));
    expect(marketKey({ exchange: "kraken", pair: "abcd", base: "ab", quote: "cd" }))
      .toBe(marketKey({ exchange: "kraken", pair: "abcd", base: "ab", quote: "cd" }));
    expect(marketKey({ exchange: "bitflyer", pair: "btcjpy", base: "btc", quote: "jpy" }))
      .not.toBe(marketKey({ exchange: "bitflyer", pair: "btcfxjpy", base: "btc", quote: "jpy" }));
    // Nor can a separator inside a name forge another identity.
    expect(marketKey({ exchange: "a:b", pair: "cd", base: "c", quote: "d" }))
      .not.toBe(marketKey({ exchange: "a", pair: "cd", base: "b:c", quote: "d" }));
  });
});
