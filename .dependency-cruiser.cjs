/**
 * Import rules (issue 17), checked by `npm run lint:imports` in CI (.ci/run).
 *
 * The rooms and the arrows allowed between them (everything not listed is forbidden):
 *   index.ts      -> api, ingest, alerts, domain   (wiring only)
 *   api/          -> storage, config, domain, lib
 *   ingest/       -> sources, storage, alerts (the tick hands its points to the queue), config, domain, lib
 *   alerts/       -> storage, config, domain, lib
 *   config.ts     -> sources (the registry it validates SOURCES against), domain, lib
 *   sources/      -> domain, lib (the catalogue store arrives in the source's context)
 *   storage/      -> domain, lib
 *   domain/       -> domain, lib   (the shared types: every room may import them)
 *   lib/          -> lib           (small helpers that know nothing of the tracker)
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "A circle of imports has no first module to read or test alone: break it with a shared type in domain/ or a parameter.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    {
      name: "lib-imports-only-lib",
      comment: "lib/ holds helpers every room uses; importing a room would make every room depend on it.",
      severity: "error",
      from: { path: "^src/lib/" },
      to: { path: "^src/", pathNot: "^src/lib/" },
    },
    {
      name: "domain-imports-only-domain-and-lib",
      comment: "domain/ is the neutral room of shared types that every layer imports, so it can import no layer.",
      severity: "error",
      from: { path: "^src/domain/" },
      to: { path: "^src/", pathNot: "^src/(domain|lib)/" },
    },
    {
      name: "sources-import-only-domain-and-lib",
      comment: "A source turns an upstream's payload into markets; storage reaches it as an interface in its context (CatalogStore).",
      severity: "error",
      from: { path: "^src/sources/" },
      to: { path: "^src/", pathNot: "^src/(sources|domain|lib)/" },
    },
    {
      name: "storage-imports-only-domain-and-lib",
      comment: "Storage keeps what ingest and alerts hand it; their types live in domain/, so it never imports ingest, alerts or api.",
      severity: "error",
      from: { path: "^src/storage/" },
      to: { path: "^src/", pathNot: "^src/(storage|domain|lib)/" },
    },
    {
      name: "api-reads-storage-not-ingest-or-sources",
      comment: "The API serves what storage holds; what the tick does and where data comes from are not its business.",
      severity: "error",
      from: { path: "^src/api/" },
      to: { path: "^src/(ingest|sources|alerts)/|^src/index\\.ts$" },
    },
    {
      name: "alerts-do-not-import-ingest-api-or-sources",
      comment: "Alerts receive points through the queue; they read shared types from domain/ and errorText from lib/.",
      severity: "error",
      from: { path: "^src/alerts/" },
      to: { path: "^src/(ingest|api|sources)/|^src/index\\.ts$" },
    },
    {
      name: "ingest-does-not-import-api",
      comment: "The tick writes; the API reads what it wrote from storage.",
      severity: "error",
      from: { path: "^src/ingest/" },
      to: { path: "^src/api/|^src/index\\.ts$" },
    },
    {
      name: "sources-http-stays-in-sources",
      comment: "sources/http.ts is how a source calls its upstream; shared helpers such as errorText live in lib/.",
      severity: "error",
      from: { path: "^src/", pathNot: "^src/sources/" },
      to: { path: "^src/sources/http\\.ts$" },
    },
    {
      name: "config-imports-no-layer-above-it",
      comment: "Every layer reads the config; config reading a layer would put that layer beneath everything.",
      severity: "error",
      from: { path: "^src/config\\.ts$" },
      to: { path: "^src/", pathNot: "^src/(config\\.ts$|sources/|domain/|lib/)" },
    },
    {
      name: "only-index-is-the-entry",
      comment: "index.ts wires the handlers; nothing imports the entry point.",
      severity: "error",
      from: { path: "^src/" },
      to: { path: "^src/index\\.ts$" },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    // Type-only imports are arrows too: a type from the wrong room is the same wrong dependency.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    exclude: { path: "^(node_modules|test|scripts)/" },
  },
};
