/**
 * D1 wrappers for the fault and race tests: one that fails a chosen statement,
 * one that holds a run at a chosen statement boundary while another runs.
 */

type Wrapped = { inner: D1PreparedStatement };

/**
 * A D1 whose statements call `before()` ahead of each awaited call (`first`,
 * `all`, `run`); a batch calls `beforeBatch` instead and runs what it returns.
 */
function wrapDatabase(
  db: D1Database,
  before: () => void | Promise<void>,
  beforeBatch: (statements: D1PreparedStatement[]) => Promise<D1PreparedStatement[]>,
): D1Database {
  const wrap = (inner: D1PreparedStatement): D1PreparedStatement & Wrapped =>
    ({
      inner,
      bind: (...values: unknown[]) => wrap(inner.bind(...values)),
      first: async (...args: [string?]) => {
        await before();
        return inner.first(...(args as []));
      },
      all: async () => {
        await before();
        return inner.all();
      },
      run: async () => {
        await before();
        return inner.run();
      },
    }) as unknown as D1PreparedStatement & Wrapped;
  const wrapped = {
    prepare: (sql: string) => wrap(db.prepare(sql)),
    batch: async (statements: (D1PreparedStatement & Wrapped)[]) => db.batch(await beforeBatch(statements.map((s) => s.inner))),
    withSession: () => wrapped,
  } as unknown as D1Database;
  return wrapped;
}

/**
 * D1 that fails its `failAt`-th statement (counting every statement, inside a
 * batch too). In a batch the statement is replaced by one that fails inside
 * D1 (a CHECK constraint), so the real transaction rolls back as it would.
 */
export function faultyDatabase(db: D1Database, failAt: number) {
  let seen = 0;
  const failsNow = () => ++seen === failAt;
  const faulty = wrapDatabase(
    db,
    () => {
      if (failsNow()) throw new Error("D1_ERROR: injected failure");
    },
    async (statements) => statements.map((s) => (failsNow() ? db.prepare("INSERT INTO tick_lease (id) VALUES (2)") : s)),
  );
  return { db: faulty, statements: () => seen };
}

/**
 * D1 that holds its caller just before its `pauseAt`-th call (a read, a
 * write, or a whole batch: a batch is one transaction, so the boundaries
 * between runs are between calls) until `resume()`. `reached` resolves when
 * it holds; `calls()` counts the calls so far (with Infinity: how many a run
 * makes).
 */
export function pausingDatabase(db: D1Database, pauseAt: number) {
  let calls = 0;
  let reach = () => {};
  let resume = () => {};
  const reached = new Promise<void>((resolve) => (reach = resolve));
  const gate = new Promise<void>((resolve) => (resume = resolve));
  const before = async () => {
    if (++calls !== pauseAt) return;
    reach();
    await gate;
  };
  const pausing = wrapDatabase(db, before, async (statements) => {
    await before();
    return statements;
  });
  return { db: pausing, reached, resume: () => resume(), calls: () => calls };
}
