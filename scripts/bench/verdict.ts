/**
 * How `npm run bench` judges a time: against the noise measured in the same
 * run, never against a bare number. A shared 2-core machine moves medians by
 * tenths of a millisecond between two runs of the very same statements, so
 * "no slower than today's" compared raw fails on noise about half the time.
 */

const sorted = (xs: readonly number[]) => [...xs].sort((a, b) => a - b);

/** The middle sample (the lower of the two middle ones for an even count). */
export const median = (xs: readonly number[]) => sorted(xs)[Math.floor((xs.length - 1) / 2)]!;

/** Interquartile range: third quartile minus first, each the nearest sample (no interpolation). */
export function iqr(xs: readonly number[]): number {
  const s = sorted(xs);
  return s[Math.ceil((3 * (s.length - 1)) / 4)]! - s[Math.floor((s.length - 1) / 4)]!;
}

export interface TimeVerdict {
  /** Median of ours, ms. */
  ours: number;
  /** `factor` x the median of today's, ms: the budget before noise. */
  budget: number;
  /** The margin: the largest of the spreads measured in this run, ms. */
  noise: number;
  /** True only when ours exceeds the budget by more than the noise. */
  slower: boolean;
}

/**
 * Is ours slower than `factor` x today's beyond this run's noise?
 *
 * `again` is ours measured a second time in the same run, interleaved with the
 * other arms (an A-A comparison): any difference between the two medians is
 * noise. The margin is the largest of that difference, the interquartile range
 * of each arm (today's scaled by `factor`), and the clock's resolution per call
 * (workerd's clock moves in whole milliseconds; a sample is `repeat` calls).
 */
export function judgeTime(
  ours: readonly number[],
  again: readonly number[],
  today: readonly number[],
  { factor = 1, resolution = 0 }: { factor?: number; resolution?: number } = {},
): TimeVerdict {
  const mine = median(ours);
  const budget = factor * median(today);
  const noise = Math.max(resolution, Math.abs(mine - median(again)), iqr(ours), iqr(again), factor * iqr(today));
  return { ours: mine, budget, noise, slower: mine - budget > noise };
}
