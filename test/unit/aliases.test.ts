import { describe, expect, it } from "vitest";
import { normaliseAsset, normalisePair } from "../../src/sources/aliases";
import { splitBitfinexSymbol } from "../../src/sources/bitfinex";

describe("symbol normalisation", () => {
  // One row per alias of src/sources/aliases.ts, written out by hand.
  it.each([
    ["kraken", "XBT", "btc"],
    ["kraken", "XDG", "doge"],
    ["kraken", "XXBT", "btc"],
    ["kraken", "XXDG", "doge"],
    ["kraken", "XETH", "eth"],
    ["kraken", "XETC", "etc"],
    ["kraken", "XLTC", "ltc"],
    ["kraken", "XMLN", "mln"],
    ["kraken", "XREP", "rep"],
    ["kraken", "XXLM", "xlm"],
    ["kraken", "XXMR", "xmr"],
    ["kraken", "XXRP", "xrp"],
    ["kraken", "XZEC", "zec"],
    ["kraken", "ZUSD", "usd"],
    ["kraken", "ZEUR", "eur"],
    ["kraken", "ZGBP", "gbp"],
    ["kraken", "ZJPY", "jpy"],
    ["kraken", "ZCAD", "cad"],
    ["kraken", "ZAUD", "aud"],
    ["bitfinex", "UST", "usdt"],
    ["bitfinex", "UDC", "usdc"],
    ["bitfinex", "EUT", "eurt"],
    ["bitfinex", "DSH", "dash"],
    ["bitfinex", "IOT", "iota"],
    ["bitfinex", "QTM", "qtum"],
    ["bitfinex", "MNA", "mana"],
    ["bitfinex", "DAT", "data"],
    ["bitfinex", "QSH", "qash"],
    ["bitfinex", "YYW", "yoyow"],
    ["bitfinex", "ALG", "algo"],
    ["bitfinex", "BCHN", "bch"],
  ])("%s %s -> %s", (source, code, symbol) => {
    expect(normaliseAsset(source, code)).toBe(symbol);
  });

  it("the table has exactly the aliases tested above", async () => {
    const { ASSET_ALIASES } = await import("../../src/sources/aliases");
    expect(Object.values(ASSET_ALIASES).reduce((n, table) => n + Object.keys(table).length, 0)).toBe(31);
  });

  it("an alias belongs to its exchange: UST is Tether on Bitfinex, TerraUSD on Kraken", () => {
    expect(normaliseAsset("bitfinex", "UST")).toBe("usdt");
    expect(normaliseAsset("kraken", "UST")).toBe("ust");
    expect(normaliseAsset("coinbase", "XBT")).toBe("xbt");
  });

  it("Kraken codes that merely start with X or Z are kept", () => {
    expect(normaliseAsset("kraken", "XTZ")).toBe("xtz");
    expect(normaliseAsset("kraken", "ZRX")).toBe("zrx");
    expect(normaliseAsset("kraken", "ZEUS")).toBe("zeus");
  });

  it("other codes are lower-cased, and the pair is base + quote", () => {
    expect(normalisePair("okx", "BTC", "USDT")).toEqual({ pair: "btcusdt", base: "btc", quote: "usdt" });
    expect(normalisePair("kraken", "XBT", "USD")).toEqual({ pair: "btcusd", base: "btc", quote: "usd" });
    expect(normalisePair("binance", "1INCH", "USD")).toEqual({ pair: "1inchusd", base: "1inch", quote: "usd" });
  });

  it("codes that cannot make a symbol give no pair", () => {
    expect(normalisePair("okx", "", "USDT")).toBeUndefined();
    expect(normalisePair("okx", "BT C", "USDT")).toBeUndefined();
    expect(normalisePair("okx", "BTC/X", "USDT")).toBeUndefined();
  });

  it.each([
    ["tBTCUSD", ["BTC", "USD"]],
    ["tBTCUST", ["BTC", "UST"]],
    ["tDOGE:USD", ["DOGE", "USD"]],
    ["tTESTBTC:TESTUSD", ["TESTBTC", "TESTUSD"]],
    ["tBTCUSDT", undefined], // neither 3 + 3 letters nor colon-separated
    ["tBTC:", undefined],
  ])("Bitfinex symbol %s splits into %j", (symbol, split) => {
    expect(splitBitfinexSymbol(symbol)).toEqual(split);
  });
});
