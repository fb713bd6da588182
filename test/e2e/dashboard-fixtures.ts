/**
 * Test-only answers, in the documented contract, for the endpoints the dashboard
 * reads before this branch's tracker serves them: a metric's candles
 * (`/candles?interval=1h|1d&since=&until=`) and the ranking over a window
 * (`/ranking?window=7d|30d`). dashboard.test.ts routes the page's requests here
 * while its CANDLES_ENDPOINTS_LIVE is false.
 */

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
const INTERVALS = { "1h": HOUR, "1d": DAY } as const;
const DEFAULT_BACK = { "1h": 7 * DAY, "1d": 365 * DAY } as const;
const MAX_INTERVALS = 2000;
/** The fixture tracker's first day: a range reaching further back ("all") starts there. */
const KEPT_DAYS = 400;

export interface Candle {
  time: string;
  open: number;
  high: number;
  low: number;
  close: number;
  n: number;
  mean: number;
  std: number;
  complete: boolean;
}

export interface CandlesAnswer {
  metric_type: string;
  symbol: string;
  interval: "1h" | "1d";
  candles: Candle[];
}

export interface RankingAnswer {
  metric_type: string;
  total: number;
  ranking: { rank: number; symbol: string; stddev: number }[];
}

/** `since`/`until` as the API reads them: epoch ms, or ISO-8601. */
function time(raw: string | null, fallback: number): number {
  if (raw === null) return fallback;
  return /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
}

const round = (value: number) => Math.round(value * 100) / 100;

/**
 * The answer to `/metric_types/{t}/metrics/{s}/candles?...`: one candle per interval start
 * in [since, until], from the fixture's first day on, every seventh interval missing (no value
 * then); values follow a wave whose level depends on the symbol. A span above 2,000 intervals,
 * or an unknown interval, is a 400, as the API answers.
 */
export function candlesAnswer(url: URL, now = Date.now()): { status: number; body: CandlesAnswer | { error: string } } {
  const [, metricType = "", symbol = ""] = /^\/metric_types\/([^/]+)\/metrics\/([^/]+)\/candles$/.exec(url.pathname) ?? [];
  const interval = url.searchParams.get("interval") ?? "1h";
  if (interval !== "1h" && interval !== "1d") return { status: 400, body: { error: `Unknown interval "${interval}": expected 1h or 1d` } };
  const length = INTERVALS[interval];
  const until = time(url.searchParams.get("until"), now);
  const since = time(url.searchParams.get("since"), until - DEFAULT_BACK[interval]);
  if (!Number.isFinite(since) || !Number.isFinite(until)) return { status: 400, body: { error: "Malformed since or until" } };
  if (Math.ceil((until - since) / length) > MAX_INTERVALS) {
    return { status: 400, body: { error: `The span holds more than ${MAX_INTERVALS} intervals of ${interval}` } };
  }
  const level = [...symbol].reduce((sum, char) => sum + char.charCodeAt(0), 0) * 10;
  const first = Math.max(Math.ceil(since / length) * length, Math.floor(now / DAY) * DAY - KEPT_DAYS * DAY);
  const candles: Candle[] = [];
  for (let start = first; start <= Math.min(until, now); start += length) {
    const k = Math.round(start / length);
    if (k % 7 === 3) continue;
    const open = round(level * (1 + 0.05 * Math.sin(k / 10)));
    const close = round(open * (1 + 0.01 * Math.sin(k)));
    const high = round(Math.max(open, close) * 1.004);
    const low = round(Math.min(open, close) * 0.996);
    candles.push({
      time: new Date(start).toISOString(),
      open,
      high,
      low,
      close,
      n: length / 60_000,
      mean: round((open + close) / 2),
      std: round((high - low) / 4),
      complete: start + length <= now,
    });
  }
  return { status: 200, body: { metric_type: metricType, symbol: decodeURIComponent(symbol), interval, candles } };
}

/**
 * The ranking over a 7 d or 30 d window, built from the 24 h one's metrics so the
 * table is told apart: over 7 d the symbols rank in alphabetical order, over 30 d in
 * reverse (distinct std devs, so ranks 1 to n).
 */
export function rankingAnswer(day: RankingAnswer, window: string): RankingAnswer {
  const symbols = day.ranking.map((row) => row.symbol).sort((a, b) => a.localeCompare(b));
  if (window === "30d") symbols.reverse();
  return {
    metric_type: day.metric_type,
    total: day.total,
    ranking: symbols.map((symbol, i) => ({ rank: i + 1, symbol, stddev: (symbols.length - i) * 12.5 })),
  };
}
