/** Time units and the two ways the tracker writes a time: epoch ms and ISO-8601 UTC. */
export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

/** Epoch ms as ISO-8601 UTC ("2026-12-05T15:28:00.000Z"). */
export const iso = (ms: number): string => new Date(ms).toISOString();

/** The start of the minute holding `ms`: ticks and the API's minute are whole minutes. */
export const floorMinute = (ms: number): number => Math.floor(ms / MINUTE_MS) * MINUTE_MS;
