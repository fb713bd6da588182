/**
 * The pure half of the bench's candles figures (issue 18): the reference
 * ranking, the comparison of a ranking with it, the per-minute summary of an
 * hour of ticks and the storage extrapolation. No I/O: run.mjs (Node) and
 * d1.bench.ts (workerd) both use it, and test/unit/bench-candles.test.ts
 * checks it.
 */

export interface StdRow {
  symbol: string;
  stddev: number;
  rank: number;
}

/**
 * Ranks as the API gives them (rankAll, rankWindow): by variance, largest
 * first, ties share a rank (the position of the first of them), then by symbol.
 */
export function rankByVariance(rows: readonly { symbol: string; variance: number }[]): StdRow[] {
  const sorted = [...rows].sort((a, b) => b.variance - a.variance || (a.symbol < b.symbol ? -1 : a.symbol > b.symbol ? 1 : 0));
  let rank = 0;
  return sorted.map((row, i) => {
    if (i === 0 || row.variance !== sorted[i - 1]!.variance) rank = i + 1;
    return { symbol: row.symbol, stddev: Math.sqrt(row.variance), rank };
  });
}

/** Symbols whose rank differs from the reference's (or missing on either side), and the worst relative std difference. */
export function compareRanks(arm: readonly StdRow[], reference: readonly StdRow[]): { mismatches: number; worstRelative: number; examples: string[] } {
  const bySymbol = new Map(reference.map((row) => [row.symbol, row]));
  let mismatches = Math.max(0, reference.length - arm.length);
  let worstRelative = 0;
  const examples: string[] = [];
  for (const row of arm) {
    const ref = bySymbol.get(row.symbol);
    if (!ref || ref.rank !== row.rank) {
      mismatches++;
      if (examples.length < 5) examples.push(`${JSON.stringify(row)} vs ${JSON.stringify(ref ?? null)}`);
    }
    if (ref) {
      const relative = ref.stddev === 0 ? (row.stddev === 0 ? 0 : Infinity) : Math.abs(row.stddev - ref.stddev) / ref.stddev;
      worstRelative = Math.max(worstRelative, relative);
    }
  }
  return { mismatches, worstRelative, examples };
}

/** Rows written in each minute of an hour of ticks: the mean, the worst minute and which. */
export function perMinute(minutes: readonly { minute: number; rows: number }[]): { mean: number; worst: number; worst_minute: number; best: number } {
  let worst = minutes[0]!;
  let best = minutes[0]!;
  for (const m of minutes) {
    if (m.rows > worst.rows) worst = m;
    if (m.rows < best.rows) best = m;
  }
  return { mean: minutes.reduce((sum, m) => sum + m.rows, 0) / minutes.length, worst: worst.rows, worst_minute: worst.minute, best: best.rows };
}

/**
 * Bytes the candles take after `years` of a tracker of `metrics` metrics (two
 * types, half each), from the measured bytes of an hourly and a daily row (a
 * row holds a block of 48 metrics): hourly rows kept `hourlyDays` days, daily
 * ones `dailyDays` (null: for ever).
 */
export function candleBytes(
  { hourlyRowBytes, dailyRowBytes }: { hourlyRowBytes: number; dailyRowBytes: number },
  { metrics, years, hourlyDays, dailyDays, blockSlots = 48 }: { metrics: number; years: number; hourlyDays: number; dailyDays: number | null; blockSlots?: number },
): { blocks: number; hourly: number; daily: number; total: number } {
  const blocks = 2 * Math.ceil(metrics / 2 / blockSlots);
  const days = 365 * years;
  const hourly = blocks * 24 * Math.min(days, hourlyDays) * hourlyRowBytes;
  const daily = blocks * Math.min(days, dailyDays ?? Infinity) * dailyRowBytes;
  return { blocks, hourly, daily, total: hourly + daily };
}
