import { DAY_MS } from "../lib/time";

export const WINDOW_MS = DAY_MS;

/** The API's window: points with since < ts <= until. */
export interface Window {
  since: number;
  until: number;
}

/** The last 24 h before `now` (epoch ms). */
export function windowEndingAt(now: number): Window {
  return { since: now - WINDOW_MS, until: now };
}
