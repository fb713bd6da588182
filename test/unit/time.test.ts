import { describe, expect, it } from "vitest";
import { DAY_MS, floorMinute, HOUR_MS, iso, MINUTE_MS } from "../../src/lib/time";

describe("lib/time", () => {
  it("has the units in ms", () => {
    expect([MINUTE_MS, HOUR_MS, DAY_MS]).toEqual([60_000, 3_600_000, 86_400_000]);
  });

  it("writes epoch ms as ISO-8601 UTC", () => {
    expect(iso(0)).toBe("1970-01-01T00:00:00.000Z");
    // 2026-12-05 15:28:07.250 UTC = 20,792 days (56 years with 14 leap days, then 338 days of 2026) + 55,687.25 s after the epoch.
    expect(iso(20_792 * 86_400_000 + 55_687_250)).toBe("2026-12-05T15:28:07.250Z");
  });

  it("floors to the start of the minute", () => {
    const minute = 20_792 * 86_400_000 + (15 * 60 + 28) * 60_000; // 2026-12-05 15:28:00 UTC
    expect(floorMinute(minute)).toBe(minute);
    expect(floorMinute(minute + 1)).toBe(minute);
    expect(floorMinute(minute + 59_999)).toBe(minute);
    expect(floorMinute(minute + 60_000)).toBe(minute + 60_000);
    // Before the epoch too: down, not towards zero.
    expect(floorMinute(-1)).toBe(-60_000);
  });
});
