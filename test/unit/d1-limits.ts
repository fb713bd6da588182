/**
 * A D1Database that checks every statement prepared through it against
 * production D1's limits, which local SQLite (workerd) does not all enforce:
 * locally a function takes 127 arguments and a string 2.2 MB.
 *
 * Limits as documented on https://developers.cloudflare.com/d1/platform/limits/
 * ("Maximum SQL statement length 100,000 bytes", "Maximum bound parameters per
 * query 100", "Maximum string, BLOB or table row size 2,000,000 bytes",
 * "Maximum arguments per SQL function 32"). The page gives no number for the
 * terms of a compound SELECT: workerd's SQLite (setupSecurity in
 * src/workerd/util/sqlite.c++) sets SQLITE_LIMIT_COMPOUND_SELECT to 5, and a
 * sixth term fails here locally too ("too many terms in compound SELECT").
 */
import { utf8Length } from "../../src/lib/utf8";

export const D1_LIMITS = {
  sqlBytes: 100_000,
  boundParameters: 100,
  valueBytes: 2_000_000,
  functionArguments: 32,
  compoundSelectTerms: 5,
} as const;

/** The largest of each measure seen, with the statement that had it. */
export interface Peaks {
  sqlBytes: number;
  boundParameters: number;
  valueBytes: number;
  functionArguments: number;
  compoundSelectTerms: number;
}

export interface SqlShape {
  bytes: number;
  /** The number SQLite gives the highest parameter (?NNN, bare ?, :name, @name, $name). */
  parameters: number;
  /** Each function call with its number of arguments. */
  calls: { name: string; args: number }[];
  /** The most terms of any one compound SELECT (1 when there is none). */
  compoundTerms: number;
}

/** Words that may stand before "(" without calling a function. */
const KEYWORDS = new Set(
  `ALL AND AS BETWEEN BY CASE CAST CHECK CONFLICT DEFAULT DISTINCT DO ELSE EXCEPT EXISTS FILTER FROM GROUP HAVING IN
   INTERSECT IS JOIN KEY LIKE GLOB LIMIT NOT OFFSET ON OR ORDER OVER PARTITION PRIMARY RECURSIVE REFERENCES RETURNING
   SELECT SET THEN UNION UNIQUE USING VALUES WHEN WHERE WINDOW WITH`.split(/\s+/),
);

type Token = { kind: "word" | "punct" | "other"; text: string };

/** SQL as tokens: strings, quoted names and comments are skipped as single tokens. */
function tokens(sql: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const until = (end: string, from: number) => {
    // A quote is escaped by doubling it.
    let j = from;
    for (;;) {
      j = sql.indexOf(end, j);
      if (j < 0) return sql.length;
      if (end.length === 1 && sql[j + 1] === end && end !== "]") j += 2;
      else return j + end.length;
    }
  };
  while (i < sql.length) {
    const c = sql[i]!;
    if (/\s/.test(c)) i++;
    else if (sql.startsWith("--", i)) i = sql.includes("\n", i) ? sql.indexOf("\n", i) + 1 : sql.length;
    else if (sql.startsWith("/*", i)) i = until("*/", i + 2);
    else if (c === "'" || c === '"' || c === "`") {
      const j = until(c, i + 1);
      // A quoted name can be a function's name only in theory; strings never are.
      out.push({ kind: c === "'" ? "other" : "word", text: sql.slice(i, j) });
      i = j;
    } else if (c === "[") {
      const j = until("]", i + 1);
      out.push({ kind: "word", text: sql.slice(i, j) });
      i = j;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(sql.slice(i, i + 200))!;
      out.push({ kind: "word", text: m[0] });
      i += m[0].length;
    } else if (c === "?" || c === ":" || c === "@" || c === "$") {
      const m = /^(\?\d*|[:@$][A-Za-z0-9_]+)/.exec(sql.slice(i, i + 200));
      const text = m ? m[0] : c;
      out.push({ kind: "other", text });
      i += text.length;
    } else if (c === "(" || c === ")" || c === ",") {
      out.push({ kind: "punct", text: c });
      i++;
    } else {
      const m = /^[0-9.]+([eE][-+]?[0-9]+)?/.exec(sql.slice(i, i + 100));
      const text = m && m[0].length > 0 ? m[0] : c;
      out.push({ kind: "other", text });
      i += text.length;
    }
  }
  return out;
}

export function sqlShape(sql: string): SqlShape {
  const list = tokens(sql);
  const calls: { name: string; args: number }[] = [];
  let parameters = 0;
  const named = new Map<string, number>();
  let compoundTerms = 1;
  // Per open parenthesis (and the statement itself): the call it opens, its commas, whether it holds anything, its compound operators.
  const stack: { call: string | null; commas: number; empty: boolean; compounds: number }[] = [
    { call: null, commas: 0, empty: true, compounds: 0 },
  ];
  list.forEach((token, index) => {
    const top = stack.at(-1)!;
    const upper = token.text.toUpperCase();
    if (token.kind === "punct" && token.text === "(") {
      top.empty = false;
      const before = list[index - 1];
      const call = before?.kind === "word" && !KEYWORDS.has(before.text.toUpperCase()) ? before.text : null;
      stack.push({ call, commas: 0, empty: true, compounds: 0 });
      return;
    }
    if (token.kind === "punct" && token.text === ")") {
      const closed = stack.length > 1 ? stack.pop()! : top;
      if (closed.call !== null) calls.push({ name: closed.call, args: closed.empty ? 0 : closed.commas + 1 });
      compoundTerms = Math.max(compoundTerms, closed.compounds + 1);
      return;
    }
    top.empty = false;
    if (token.kind === "punct") top.commas++;
    else if (token.kind === "word" && (upper === "UNION" || upper === "INTERSECT" || upper === "EXCEPT")) top.compounds++;
    else if (token.text.startsWith("?")) {
      parameters = token.text.length > 1 ? Math.max(parameters, Number(token.text.slice(1))) : parameters + 1;
    } else if (/^[:@$]./.test(token.text) && !named.has(token.text)) {
      named.set(token.text, ++parameters);
    }
  });
  for (const open of stack) compoundTerms = Math.max(compoundTerms, open.compounds + 1);
  return { bytes: utf8Length(sql), parameters, calls, compoundTerms };
}

/** What in `sql` exceeds D1's limits (nothing: an empty list). */
export function sqlProblems(sql: string): string[] {
  const shape = sqlShape(sql);
  const problems: string[] = [];
  if (shape.bytes > D1_LIMITS.sqlBytes) problems.push(`${shape.bytes} bytes of SQL (D1: ${D1_LIMITS.sqlBytes})`);
  if (shape.parameters > D1_LIMITS.boundParameters) problems.push(`${shape.parameters} parameters (D1: ${D1_LIMITS.boundParameters})`);
  for (const call of shape.calls) {
    if (call.args > D1_LIMITS.functionArguments) problems.push(`${call.name}() with ${call.args} arguments (D1: ${D1_LIMITS.functionArguments})`);
  }
  if (shape.compoundTerms > D1_LIMITS.compoundSelectTerms) {
    problems.push(`a compound SELECT of ${shape.compoundTerms} terms (D1: ${D1_LIMITS.compoundSelectTerms})`);
  }
  return problems;
}

export function valueBytes(value: unknown): number {
  if (typeof value === "string") return utf8Length(value);
  if (value instanceof ArrayBuffer) return value.byteLength;
  if (ArrayBuffer.isView(value)) return value.byteLength;
  return 0;
}

/** What in a bind() exceeds D1's limits. */
export function bindProblems(values: readonly unknown[]): string[] {
  const problems: string[] = [];
  if (values.length > D1_LIMITS.boundParameters) problems.push(`${values.length} values bound (D1: ${D1_LIMITS.boundParameters})`);
  values.forEach((value, i) => {
    const bytes = valueBytes(value);
    if (bytes > D1_LIMITS.valueBytes) problems.push(`parameter ${i + 1} of ${bytes} bytes (D1: ${D1_LIMITS.valueBytes})`);
  });
  return problems;
}

/**
 * `db`, checked: every prepare() and bind() (also through withSession) is
 * measured; what exceeds a limit is recorded in `violations` (the statement
 * still runs, so one test reports every problem at once).
 */
export function limitChecked(db: D1Database) {
  const violations: { sql: string; problem: string }[] = [];
  const peaks: Peaks = { sqlBytes: 0, boundParameters: 0, valueBytes: 0, functionArguments: 0, compoundSelectTerms: 0 };
  let prepared = 0;
  const real = new WeakMap<object, D1PreparedStatement>();
  const shapes = new Map<string, SqlShape>();

  const wrap = (statement: D1PreparedStatement, sql: string): D1PreparedStatement => {
    const checked = {
      bind: (...values: unknown[]) => {
        for (const problem of bindProblems(values)) violations.push({ sql, problem });
        peaks.boundParameters = Math.max(peaks.boundParameters, values.length);
        for (const value of values) peaks.valueBytes = Math.max(peaks.valueBytes, valueBytes(value));
        return wrap(statement.bind(...values), sql);
      },
      first: (column?: string) => (column === undefined ? statement.first() : statement.first(column)),
      all: () => statement.all(),
      run: () => statement.run(),
      raw: (options?: { columnNames?: boolean }) => statement.raw(options as { columnNames: true }),
    } as unknown as D1PreparedStatement;
    real.set(checked, statement);
    return checked;
  };

  const prepare = (target: Pick<D1Database, "prepare">) => (sql: string) => {
    prepared++;
    let shape = shapes.get(sql);
    if (!shape) {
      shape = sqlShape(sql);
      shapes.set(sql, shape);
      for (const problem of sqlProblems(sql)) violations.push({ sql, problem });
      peaks.sqlBytes = Math.max(peaks.sqlBytes, shape.bytes);
      peaks.boundParameters = Math.max(peaks.boundParameters, shape.parameters);
      peaks.functionArguments = Math.max(peaks.functionArguments, ...shape.calls.map((call) => call.args), 0);
      peaks.compoundSelectTerms = Math.max(peaks.compoundSelectTerms, shape.compoundTerms);
    }
    return wrap(target.prepare(sql), sql);
  };
  const unwrap = (statements: D1PreparedStatement[]) =>
    statements.map((statement) => {
      const inner = real.get(statement);
      if (!inner) throw new Error("a statement not prepared through the checked database");
      return inner;
    });

  const checked = {
    prepare: prepare(db),
    batch: (statements: D1PreparedStatement[]) => db.batch(unwrap(statements)),
    exec: (sql: string) => {
      for (const problem of sqlProblems(sql)) violations.push({ sql, problem });
      return db.exec(sql);
    },
    withSession: (constraint?: string) => {
      const session = db.withSession(constraint as D1SessionConstraint);
      return {
        prepare: prepare(session),
        batch: (statements: D1PreparedStatement[]) => session.batch(unwrap(statements)),
        getBookmark: () => session.getBookmark(),
      } as unknown as D1DatabaseSession;
    },
    dump: () => db.dump(),
  } as unknown as D1Database;

  return { db: checked, violations, peaks, prepared: () => prepared };
}
