/**
 * Rows that travel as one bound JSON array (`INSERT ... SELECT ... FROM
 * json_each(?)`): one statement whatever the number of rows, as long as the
 * array fits in one bound value. D1 keeps at most 2,000,000 bytes per string;
 * a payload is split into several arrays of at most PAYLOAD_MAX_BYTES each
 * (one statement per array, all in the caller's batch).
 */
import { utf8Length } from "../lib/utf8";

/** Half of D1's 2 MB per bound string: room to spare, and a tick of 40,000 metrics still needs one frames statement. */
export const PAYLOAD_MAX_BYTES = 1_000_000;

/** `rows` as JSON arrays of at most `maxBytes` bytes each, in order; none when there is no row. */
export function jsonArrayChunks(rows: readonly unknown[], maxBytes = PAYLOAD_MAX_BYTES): string[] {
  const chunks: string[] = [];
  let texts: string[] = [];
  let bytes = 2; // the brackets
  for (const row of rows) {
    const text = JSON.stringify(row);
    const size = utf8Length(text);
    if (size + 2 > maxBytes) throw new Error(`a row of ${size} bytes does not fit in a bound value of ${maxBytes} bytes`);
    if (texts.length > 0 && bytes + 1 + size > maxBytes) {
      chunks.push(`[${texts.join(",")}]`);
      texts = [];
      bytes = 2;
    }
    bytes += (texts.length > 0 ? 1 : 0) + size;
    texts.push(text);
  }
  if (texts.length > 0) chunks.push(`[${texts.join(",")}]`);
  return chunks;
}
