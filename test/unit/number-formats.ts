/** Ways exchanges write a double as text, for the number tests. */

/** The shortest digits of |x| ("812") and its decimal exponent (-6 for 8.12e-6), x != 0 and finite. */
function shortest(x: number): { digits: string; exponent: number } {
  const [mantissa, exponent] = Math.abs(x).toExponential().split("e") as [string, string];
  return { digits: mantissa.replace(".", ""), exponent: Number(exponent) };
}

/**
 * Java's Double.toString (JDK 19+, shortest digits): plain decimals with at least one
 * fraction digit for 1e-3 <= |x| < 1e7 ("100.0", "0.00123"), else one digit, a point,
 * the rest of the digits and "E" with the exponent ("8.12E-6", "1.0E7", "-2.5E-10").
 * (Where the shortest digits are one, Java picks the closest two: "4.9E-324" for the
 * smallest subnormal, written "5.0E-324" here; both name the same double.)
 */
export function javaDoubleToString(x: number): string {
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const sign = x < 0 ? "-" : "";
  const { digits, exponent } = shortest(x);
  const magnitude = Math.abs(x);
  if (magnitude >= 1e-3 && magnitude < 1e7) {
    if (exponent < 0) return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
    const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, "0");
    return `${sign}${whole}.${digits.slice(exponent + 1) || "0"}`;
  }
  return `${sign}${digits[0]}.${digits.slice(1) || "0"}E${exponent}`;
}

/** Java's computerized scientific notation for every value, 0 included ("5.0E-6", "5.02E4", "0.0E0"). */
export function scientific(x: number): string {
  if (x === 0) return "0.0E0";
  const { digits, exponent } = shortest(x);
  return `${x < 0 ? "-" : ""}${digits[0]}.${digits.slice(1) || "0"}E${exponent}`;
}

const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?$/;

/**
 * A payload with every string under one of `fields` (at any depth, arrays
 * included) that is a JSON number rewritten by `write`; everything else stays.
 */
export function rewriteNumberStrings<T>(payload: T, fields: readonly string[], write: (x: number) => string): T {
  const visit = (value: unknown, rewrite: boolean): unknown => {
    if (typeof value === "string") return rewrite && JSON_NUMBER.test(value) ? write(Number(value)) : value;
    if (Array.isArray(value)) return value.map((inner) => visit(inner, rewrite));
    if (typeof value === "object" && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, visit(inner, rewrite || fields.includes(key))]));
    }
    return value;
  };
  return visit(payload, false) as T;
}
