/**
 * The pure part of a tick, timed in Node (inside workerd the clock only moves
 * across I/O): parse a Cryptowatch /markets/summaries body of N markets with the
 * real source code (the catalogue read and the fetch answered from memory) and
 * aggregate the result.
 */
import { aggregate } from "../../src/ingest/aggregate";
import { breakdownsBySource } from "../../src/ingest/breakdown";
import { cryptowatch } from "../../src/sources/cryptowatch";

export async function timePureTick(markets: number, runs: number) {
  const exchanges = ["kraken", "bitstamp", "coinbase-pro", "binance", "bitfinex", "kucoin", "okx", "gemini"];
  const result: Record<string, unknown> = {};
  const catalog: Record<string, [string, string]> = {};
  for (let i = 0; i < markets; i++) {
    const base = `a${Math.floor(i / exchanges.length)}`;
    const quote = ["usd", "eur", "btc", "usdt"][i % 4]!;
    catalog[base + quote] = [base, quote];
    result[`${exchanges[i % exchanges.length]}:${base}${quote}`] = {
      price: { last: 1 + (i % 97) / 10, high: 2, low: 0.5, change: { percentage: 0.01, absolute: 0.01 } },
      volume: 1000 + i,
      volumeQuote: 1500 + i,
    };
  }
  const body = JSON.stringify({ result, allowance: { cost: 0.015, remaining: 9.9 } });
  // The stored catalogue, fresh (fetched at 0 = ctx.now), in src/sources/catalog.ts's format, parsed on each read as D1's is.
  const stored = JSON.stringify({ pairs: catalog, missing: [] });
  const catalogs = { load: async () => ({ catalog: JSON.parse(stored) as Record<string, unknown>, fetchedAt: 0 }), save: async () => {} };
  const source = cryptowatch({ baseUrl: "http://upstream.invalid" });
  const ctx = { fetch: async () => new Response(body), catalogs, now: 0 };

  const parse: number[] = [];
  const aggregateMs: number[] = [];
  const breakdownMs: number[] = [];
  let breakdownBytes = 0;
  let points = 0;
  for (let run = 0; run < runs; run++) {
    const t0 = performance.now();
    const reading = await source.read(ctx);
    const t1 = performance.now();
    const aggregated = aggregate(reading.markets);
    points = aggregated.points.length;
    const t2 = performance.now();
    breakdownBytes = breakdownsBySource(aggregated.outcomes, aggregated.medians, () => "cryptowatch", 0.1)[0]!.data.length;
    const t3 = performance.now();
    parse.push(t1 - t0);
    aggregateMs.push(t2 - t1);
    breakdownMs.push(t3 - t2);
  }
  return { markets, bodyBytes: body.length, points, parseMs: parse, aggregateMs, breakdownMs, breakdownBytes };
}
