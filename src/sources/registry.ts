/**
 * Every source the tracker can read, by the name `SOURCES` selects it with.
 * A source is its module (which exports its `definition`), its fixtures under
 * test/fixtures/<name>/ and one entry here: docs/sources.md, "Adding a source".
 */
import type { Secrets } from "../domain/env";
import { definition as binance } from "./binance";
import { definition as bitfinex } from "./bitfinex";
import { definition as bitstamp } from "./bitstamp";
import { definition as coinbase } from "./coinbase";
import { definition as cryptowatch } from "./cryptowatch";
import { definition as kraken } from "./kraken";
import { definition as kucoin } from "./kucoin";
import { definition as okx } from "./okx";
import type { Source } from "./types";

/** What a source module exports as `definition`. */
export interface SourceModuleDefinition {
  /** Lower case; `SOURCES` selects it by this name and its base URL var is <NAME>_API_URL. */
  name: string;
  /** The exchange's public API: the base URL when <NAME>_API_URL is unset; written nowhere else. */
  defaultUrl: string;
  /** The secret holding its API key, if it takes one (listed in config.ts's Secrets). */
  apiKeyVar?: keyof Secrets & `${string}_API_KEY`;
  /** An upstream that is gone: read only when `SOURCES` names it. */
  retired?: true;
  create(options: { baseUrl: string; apiKey?: string }): Source;
}

/** In the order an unset `SOURCES` reads them (the first source's copy of a market counts). */
const DEFINITIONS = [kraken, coinbase, bitstamp, okx, kucoin, bitfinex, binance, cryptowatch] as const satisfies readonly SourceModuleDefinition[];

export type SourceName = (typeof DEFINITIONS)[number]["name"];

export type UrlVar = `${Uppercase<SourceName>}_API_URL`;

/**
 * Each source's base URL var (`KRAKEN_API_URL`...): not in wrangler.toml, so
 * that its default is written once, in the source's module; unset or blank means that default.
 */
export type SourceUrlVars = { [Var in UrlVar]?: string };

export interface SourceDefinition extends SourceModuleDefinition {
  name: SourceName;
  /** The var holding its base URL: <NAME>_API_URL. */
  urlVar: UrlVar;
}

export const SOURCES = Object.fromEntries(
  DEFINITIONS.map((source) => [source.name, { ...source, urlVar: `${source.name.toUpperCase()}_API_URL` }]),
) as Readonly<Record<SourceName, SourceDefinition>>;

/** What `SOURCES` means when unset: every source not retired, in registry order. */
export const DEFAULT_SOURCES: readonly SourceName[] = DEFINITIONS.filter((source: SourceModuleDefinition) => !source.retired).map((source) => source.name);

export function isSourceName(name: string): name is SourceName {
  return Object.hasOwn(SOURCES, name);
}
