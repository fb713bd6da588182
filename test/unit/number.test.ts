import { describe, expect, it } from "vitest";
import { decimal, jsonNumber, MAX_VALUE } from "../../src/lib/number";

describe("strict reading of upstream numbers", () => {
  it.each([
    ["123.45", 123.45],
    ["0", 0],
    ["-1.5e-7", -1.5e-7],
    ["+2", 2],
    [".5", 0.5],
    ["5.", 5],
    ["1E3", 1000],
    ["1e200", 1e200], // a number: aggregation drops it as beyond the bounds
    ["1e309", Infinity], // too large for a double: aggregation counts it non_finite
    [42, 42],
    [1e308, 1e308],
  ])("%j reads as %d", (raw, expected) => {
    expect(decimal(raw)).toBe(expected);
  });

  it("-0, as a string or a number, reads as 0 (never -0)", () => {
    expect(Object.is(decimal("-0"), 0)).toBe(true);
    expect(Object.is(decimal(-0), 0)).toBe(true);
    expect(Object.is(jsonNumber(-0), 0)).toBe(true);
  });

  it.each([
    ["0x10"], // Number("0x10") is 16
    [" 5 "], // Number(" 5 ") is 5
    ["5 "],
    ["NaN"],
    ["Infinity"],
    ["-Infinity"],
    [""],
    ["1,5"],
    ["1e"],
    ["0b11"],
    ["1_000"],
    [true],
    [false],
    [null],
    [undefined],
    [["5"]],
    [[["5"]]],
    [{ value: "5" }],
  ])("%j is no number", (raw) => {
    expect(decimal(raw)).toBeUndefined();
  });

  it("jsonNumber takes JSON numbers only: strings, booleans and arrays are no number", () => {
    expect(jsonNumber(5)).toBe(5);
    expect(jsonNumber("5")).toBeUndefined();
    expect(jsonNumber(true)).toBeUndefined();
    expect(jsonNumber([5])).toBeUndefined();
  });

  it("JSON.parse turns an overflowing literal into Infinity, which decimal passes on for aggregation to drop", () => {
    const parsed = JSON.parse('{"last": 1e309, "volume": -1e309}');
    expect(decimal(parsed.last)).toBe(Infinity);
    expect(decimal(parsed.volume)).toBe(-Infinity);
  });

  it("the bound is far above real data and keeps a day of squared values finite", () => {
    expect(MAX_VALUE).toBe(1e24);
    expect(Number.isFinite(1440 * MAX_VALUE * MAX_VALUE)).toBe(true);
  });
});
