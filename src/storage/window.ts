export const MINUTE_MS = 60_000;
export const WINDOW_MS = 24 * 60 * MINUTE_MS;

/** The API's window: points with since < ts <= until. */
export interface Window {
  since: number;
  until: number;
}

/** The last 24 h before `now` (epoch ms). */
export function windowEndingAt(now: number): Window {
  return { since: now - WINDOW_MS, until: now };
}
