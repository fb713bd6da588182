/** npm run bench's verdict on a time: slower only beyond the noise measured in the same run. */
import { describe, expect, it } from "vitest";
import { iqr, judgeTime, median } from "../../scripts/bench/verdict";

describe("the bench's verdict on a time", () => {
  it("median and interquartile range by nearest sample", () => {
    expect(median([5, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2); // the lower middle
    // Sorted 1..7: first quartile the 2nd sample (2), third the 6th (6).
    expect(iqr([7, 1, 6, 2, 5, 3, 4])).toBe(4);
    expect(iqr([2, 2, 2])).toBe(0);
  });

  it("the same statements in both designs: a difference within the noise is no verdict", () => {
    // Medians 2.1 vs 2.0: ours "slower" by 0.1 ms, but ours measured again gives 1.9 (0.2 apart).
    const ours = [2.1, 2.1, 2.1, 2.1, 2.1];
    const again = [1.9, 1.9, 1.9, 1.9, 1.9];
    const today = [2.0, 2.0, 2.0, 2.0, 2.0];
    const verdict = judgeTime(ours, again, today);
    expect(verdict.ours).toBe(2.1);
    expect(verdict.budget).toBe(2.0);
    expect(verdict.noise).toBeCloseTo(0.2, 12);
    expect(verdict.slower).toBe(false);
  });

  it("a difference larger than every spread is slower", () => {
    // Ours 3.0 (again 3.05), today 2.0; each arm's quartiles 0.05 apart (2nd and 4th of 5 samples):
    // 1 ms over the budget, noise 0.05.
    const verdict = judgeTime([2.95, 3.0, 3.0, 3.05, 3.05], [3.0, 3.05, 3.05, 3.1, 3.1], [1.95, 2.0, 2.0, 2.05, 2.05]);
    expect(verdict.noise).toBeCloseTo(0.05, 12);
    expect(verdict.slower).toBe(true);
  });

  it("the margin is the widest spread: either arm's interquartile range, the A-A difference, the clock's step", () => {
    const flat = (x: number) => [x, x, x, x, x];
    // Today's samples spread 1 ms between quartiles: ours 0.5 ms over its median is within it.
    expect(judgeTime(flat(10.5), flat(10.5), [9, 9.5, 10, 10.5, 11])).toMatchObject({ noise: 1, slower: false });
    // Identical arms with no spread: the clock's resolution (1 ms over 10 calls) decides.
    expect(judgeTime(flat(10.05), flat(10.05), flat(10))).toMatchObject({ noise: 0, slower: true });
    expect(judgeTime(flat(10.05), flat(10.05), flat(10), { resolution: 0.1 })).toMatchObject({ noise: 0.1, slower: false });
  });

  it("a budget of 2x today's scales today's spread with it", () => {
    // History: ours 5.4 against 2 x 2.9 = 5.8, within budget; 6.5 is not, even with today's IQR 0.2 doubled (0.4).
    const today = [2.8, 2.8, 2.9, 3.0, 3.0];
    expect(judgeTime([5.4, 5.4, 5.4, 5.4, 5.4], [5.4, 5.4, 5.4, 5.4, 5.4], today, { factor: 2 })).toMatchObject({ slower: false });
    const over = judgeTime([6.5, 6.5, 6.5, 6.5, 6.5], [6.5, 6.5, 6.5, 6.5, 6.5], today, { factor: 2 });
    expect(over.budget).toBeCloseTo(5.8, 12);
    expect(over.noise).toBeCloseTo(0.4, 12);
    expect(over.slower).toBe(true);
  });
});
