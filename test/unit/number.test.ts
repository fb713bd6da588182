import { describe, expect, it } from "vitest";
import { decimal, jsonNumber, MAX_VALUE } from "../../src/lib/number";
import { random } from "./helpers";
import { javaDoubleToString } from "./number-formats";

describe("strict reading of upstream numbers", () => {
  it.each([
    ["123.45", 123.45],
    ["0", 0],
    ["-1.5e-7", -1.5e-7],
    ["1E3", 1000],
    // Exponent notation, as Java's Double.toString writes every value below 1e-3 and from 1e7 on.
    ["1e3", 1000],
    ["8.12E-6", 0.00000812],
    ["1.5e+2", 150],
    ["1.0E-5", 0.00001],
    ["2.5E7", 25000000],
    ["0e0", 0],
    ["0.5", 0.5],
    ["-0.000001", -0.000001],
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
    ["1e+"],
    ["e5"],
    ["1e5.5"],
    ["1.5e3e1"],
    ["5\n"],
    ["\t5"],
    ["-"],
    ["--5"],
    ["٣"], // an Arabic-Indic digit 3
    ["５"], // a full-width 5
    // Outside the JSON grammar, which the issue asks for: a leading "+", a leading zero, a bare point.
    ["+2"],
    ["+1e3"],
    ["01"],
    ["-01.5"],
    ["00"],
    [".5"],
    ["-.5"],
    ["5."],
    ["5.e3"],
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

describe("property: decimal() reads every way a double is written, and nothing else", () => {
  it("the Java-like formatter writes what Java writes", () => {
    // Values from the JDK documentation and a JShell session, written by hand.
    expect([1e-3, 1e7, 100, 8.12e-6, 0.1, 1234567.5, 1e-5, -2.5e-10, 1.7976931348623157e308].map(javaDoubleToString))
      .toEqual(["0.001", "1.0E7", "100.0", "8.12E-6", "0.1", "1234567.5", "1.0E-5", "-2.5E-10", "1.7976931348623157E308"]);
    // Where the shortest digits are one, Java picks the closest two ("4.9E-324" for the smallest subnormal); it reads back the same.
    expect(decimal("4.9E-324")).toBe(Number.MIN_VALUE);
  });

  /** A double from 1e-30 to 1e31 in magnitude, either sign, with random digits. */
  function randomDouble(next: () => number): number {
    const exponent = Math.floor(next() * 61) - 30;
    const value = (1 + next() * 9) * 10 ** exponent;
    return next() < 0.5 ? -value : value;
  }

  it.each([1, 2, 3])("String, toExponential, toPrecision and Java's Double.toString of random doubles read back exactly (seed %i)", (seed) => {
    const next = random(seed);
    let checked = 0;
    for (let i = 0; i < 2000; i++) {
      const x = randomDouble(next);
      const digits = 1 + Math.floor(next() * 21);
      // Each of these writes the shortest digits that name x, or (toPrecision(17)) enough of them: x itself comes back.
      for (const written of [String(x), x.toExponential(), x.toExponential().toUpperCase(), x.toPrecision(17), javaDoubleToString(x)]) {
        expect(decimal(written), written).toBe(x);
        checked++;
      }
      // Fewer digits name a nearby decimal: parseFloat, a second reader, says which double that is.
      for (const written of [x.toExponential(digits - 1), x.toPrecision(digits)]) {
        expect(decimal(written), written).toBe(parseFloat(written));
        checked++;
      }
    }
    expect(checked).toBe(2000 * 7);
  });

  it.each([4, 5])("toFixed of n / 10^k reads as n / 10^k (seed %i)", (seed) => {
    const next = random(seed);
    for (let i = 0; i < 2000; i++) {
      const k = Math.floor(next() * 16);
      const n = Math.floor(next() * 2 ** 40) * (next() < 0.5 ? -1 : 1);
      const x = n / 10 ** k; // correctly rounded: n and 10^k are exact doubles
      expect(decimal(x.toFixed(k)), x.toFixed(k)).toBe(x + 0);
    }
  });

  /** Ways to spoil a well-formed number so that no JSON number reads like it. */
  const spoilers: [string, (s: string) => string][] = [
    ["a leading blank", (s) => ` ${s}`],
    ["a trailing blank", (s) => `${s} `],
    ["a trailing newline", (s) => `${s}\n`],
    ["a leading +", (s) => `+${s}`],
    ["a leading zero", (s) => s.replace(/^(-?)/, "$10")],
    ["a trailing point", (s) => `${s}.`],
    ["a dangling exponent", (s) => `${s}e`],
    ["a signed dangling exponent", (s) => `${s}E+`],
    ["no integer part", (s) => s.replace(/^(-?)\d+/, "$1")],
    ["no fraction digits", (s) => (s.includes(".") ? s.replace(/\.\d+/, ".") : `${s}.`)],
    ["a doubled sign", (s) => `--${s.replace(/^-/, "")}`],
    ["a digit separator", (s) => s.replace(/(\d)/, "$1_")],
    ["a comma for the point", (s) => (s.includes(".") ? s.replace(".", ",") : `${s},5`)],
    ["a full-width digit", (s) => s.replace(/\d/, (d) => String.fromCharCode(0xff10 + Number(d)))],
    ["a hex prefix", (s) => `0x${s.replace(/^-/, "")}`],
    ["a letter", (s) => `${s}x`],
  ];

  it.each(spoilers)("%s is no number, whatever the number", (_, spoil) => {
    const next = random(6);
    for (let i = 0; i < 500; i++) {
      const x = randomDouble(next);
      for (const written of [String(x), x.toExponential(), javaDoubleToString(x), x.toFixed(3)]) {
        const spoilt = spoil(written);
        expect(decimal(spoilt), JSON.stringify(spoilt)).toBeUndefined();
      }
    }
  });
});
