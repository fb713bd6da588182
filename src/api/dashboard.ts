/**
 * `/` answers a browser with the dashboard (the static asset public/dashboard.html)
 * and every other client with the status JSON.
 */
import type { TrackerEnv } from "../domain/env";

/**
 * The pages' security headers: scripts, styles and everything else from this
 * origin only (no inline script or style), never framed, no referrer sent
 * away. public/_headers sets the same on the static assets (the dashboard and
 * /docs as the assets serve them); a unit test keeps the two equal.
 */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy":
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
};

/** Quality of each media range in an Accept header ("text/html;q=0.9" -> 0.9). */
function qualities(accept: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const part of accept.split(",")) {
    const [range, ...params] = part.split(";").map((piece) => piece.trim().toLowerCase());
    if (!range) continue;
    const q = params.find((param) => param.startsWith("q="));
    const quality = q === undefined ? 1 : Number(q.slice(2));
    map.set(range, Math.max(map.get(range) ?? 0, Number.isFinite(quality) ? quality : 0));
  }
  return map;
}

/**
 * True when the client names HTML explicitly and likes it more than JSON.
 * Wildcards count for JSON only: `curl` (Accept: *\/*) and fetch() keep JSON.
 */
export function prefersHtml(accept: string | null): boolean {
  if (!accept) return false;
  const q = qualities(accept);
  const html = q.get("text/html") ?? 0;
  const json = Math.max(q.get("application/json") ?? 0, q.get("application/*") ?? 0, q.get("*/*") ?? 0);
  return html > 0 && html > json;
}

/** The dashboard page, as the assets serve it at /dashboard (with their own ETag). */
export async function dashboard(request: Request, env: TrackerEnv): Promise<Response | undefined> {
  const url = new URL("/dashboard", request.url);
  const page = await env.ASSETS.fetch(new Request(url, { method: request.method, headers: request.headers })).catch(
    (err: unknown) => {
      console.error({ msg: "dashboard asset unavailable", err: String(err) });
      return undefined;
    },
  );
  // Without the asset (not built, not deployed), the browser gets the status JSON.
  if (!page || (page.status !== 200 && page.status !== 304)) return undefined;
  const response = new Response(page.body, page);
  response.headers.append("vary", "Accept");
  for (const [name, value] of Object.entries(PAGE_HEADERS)) response.headers.set(name, value);
  return response;
}
