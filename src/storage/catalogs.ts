/** Source metadata (pair catalogues), one JSON document per source. */

export async function loadCatalog(db: D1Database, source: string): Promise<Record<string, unknown> | undefined> {
  const row = await db
    .prepare("SELECT catalog FROM source_catalogs WHERE source = ?1")
    .bind(source)
    .first<{ catalog: string }>();
  return row ? (JSON.parse(row.catalog) as Record<string, unknown>) : undefined;
}

/** The catalogue and when it was fetched, in one read. */
export async function loadCatalogEntry(
  db: D1Database,
  source: string,
): Promise<{ catalog: Record<string, unknown>; fetchedAt: number } | undefined> {
  const row = await db
    .prepare("SELECT catalog, fetched_at FROM source_catalogs WHERE source = ?1")
    .bind(source)
    .first<{ catalog: string; fetched_at: number }>();
  return row ? { catalog: JSON.parse(row.catalog) as Record<string, unknown>, fetchedAt: row.fetched_at } : undefined;
}

/** The catalogues of `db`, as the sources' context carries them (src/sources/types.ts, CatalogStore). */
export function catalogStore(db: D1Database) {
  return {
    load: (source: string) => loadCatalogEntry(db, source),
    save: (source: string, catalog: Record<string, unknown>, fetchedAt: number) => saveCatalog(db, source, catalog, fetchedAt),
  };
}

export async function catalogAge(db: D1Database, source: string): Promise<number | undefined> {
  const row = await db
    .prepare("SELECT fetched_at FROM source_catalogs WHERE source = ?1")
    .bind(source)
    .first<{ fetched_at: number }>();
  return row?.fetched_at;
}

export async function saveCatalog(
  db: D1Database,
  source: string,
  catalog: Record<string, unknown>,
  fetchedAt: number,
): Promise<void> {
  await db
    .prepare(
      `INSERT INTO source_catalogs (source, fetched_at, catalog) VALUES (?1, ?2, ?3)
       ON CONFLICT (source) DO UPDATE SET fetched_at = excluded.fetched_at, catalog = excluded.catalog`,
    )
    .bind(source, fetchedAt, JSON.stringify(catalog))
    .run();
}
