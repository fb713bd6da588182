/** The message of anything thrown, for logs and stored error texts. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
