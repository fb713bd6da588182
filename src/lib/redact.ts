/**
 * Secrets never leave the Worker: every text that is stored, served or logged
 * and may quote an upstream (source errors, alert delivery errors) goes
 * through `publicText`, which replaces each configured secret with
 * "[redacted]" and then truncates the text to ERROR_TEXT_MAX_LENGTH characters
 * (redacting first, so that a cut never leaves part of a secret). The secrets
 * are given (src/domain/env.ts lists them), so this module stays free of src/.
 */
export const REDACTED = "[redacted]";
/** Upstream error texts are cut to this many characters (an error page can be megabytes). */
export const ERROR_TEXT_MAX_LENGTH = 500;

/** `text` with every secret, as written or URL-encoded, replaced by "[redacted]". */
export function redact(text: string, secrets: readonly string[]): string {
  const forms = new Set<string>();
  for (const secret of secrets) {
    forms.add(secret);
    forms.add(encodeURIComponent(secret));
  }
  // Longest first, so that a secret containing another is replaced whole.
  let redacted = text;
  for (const form of [...forms].sort((a, b) => b.length - a.length)) {
    if (form !== "") redacted = redacted.replaceAll(form, REDACTED);
  }
  return redacted;
}

/** At most `max` characters, the cut marked with an ellipsis. */
export function truncate(text: string, max = ERROR_TEXT_MAX_LENGTH): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** What may be stored, served or logged of a text that can quote an upstream. */
export function publicText(text: string, secrets: readonly string[]): string {
  return truncate(redact(text, secrets));
}

/** `publicText` applied to every string inside a JSON-like value. */
export function publicValue<T>(value: T, secrets: readonly string[]): T {
  if (typeof value === "string") return publicText(value, secrets) as T;
  if (Array.isArray(value)) return value.map((item) => publicValue(item, secrets)) as T;
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, publicValue(item, secrets)])) as T;
  }
  return value;
}
