/**
 * Checks a response of the Worker against the OpenAPI document: its path and
 * status must be documented, its documented headers present and valid, its
 * body valid against the documented schema. helpers.ts runs it on every
 * response the unit tests receive, so the document cannot drift from the code.
 */
import { dereference, validate, type Schema } from "@cfworker/json-schema";
import { openApiDocument } from "../../src/api/openapi";

type Json = Record<string, any>;

/** A copy: the validator annotates the schemas it indexes. */
export const document: Json = structuredClone(openApiDocument);
const lookup = dereference(document as Schema);

/** Follow a local `$ref` ("#/components/responses/NotFound") to what it names. */
function resolve(node: Json): Json {
  let current = node;
  while (typeof current.$ref === "string") {
    const pointer = current.$ref.replace(/^#\//, "").split("/").map((part: string) => part.replace(/~1/g, "/").replace(/~0/g, "~"));
    current = pointer.reduce((at: Json, key: string) => at?.[key], document);
    if (current === undefined) throw new Error(`unresolved $ref ${node.$ref}`);
  }
  return current;
}

const templates = Object.keys(document.paths)
  .map((template) => ({
    template,
    params: (template.match(/\{/g) ?? []).length,
    regex: new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`),
  }))
  // A literal segment wins over a parameter.
  .sort((a, b) => a.params - b.params);

export function documentedPath(pathname: string): string | undefined {
  return templates.find(({ regex }) => regex.test(pathname))?.template;
}

export function schemaErrors(instance: unknown, schema: Json): string[] {
  const result = validate(instance, schema as Schema, "2020-12", lookup, false);
  return result.valid ? [] : result.errors.map((e) => `${e.instanceLocation} ${e.keyword}: ${e.error}`);
}

/** The documented response for this request and status, or an explanation of why there is none. */
function documentedResponse(method: string, pathname: string, status: number): { response: Json; where: string } | string {
  const template = documentedPath(pathname);
  if (method !== "GET" && method !== "HEAD") {
    if (status === 405) return { response: resolve(document.components.responses.MethodNotAllowed), where: "405 (any path)" };
    return `${method} ${pathname} answered ${status}: only GET, HEAD (and OPTIONS preflight) are documented`;
  }
  if (template === undefined) {
    // A path outside the document must be a documented 404.
    if (status === 404) return { response: resolve(document.components.responses.NotFound), where: "404 (unknown path)" };
    return `${pathname} is not documented in openapi.ts, yet answered ${status}`;
  }
  const operation = document.paths[template].get;
  const entry = operation?.responses?.[String(status)];
  if (!entry) return `GET ${template} is not documented to answer ${status}`;
  return { response: resolve(entry), where: `GET ${template} ${status}` };
}

/** Throws with every mismatch between the response and the document. */
export async function checkAgainstOpenApi(request: Request, response: Response): Promise<void> {
  const url = new URL(request.url);
  if (request.method === "OPTIONS") return; // CORS preflight: no body, described in info.description
  const found = documentedResponse(request.method, url.pathname, response.status);
  if (typeof found === "string") throw new Error(`OpenAPI: ${found}`);
  const { response: documented, where } = found;
  const problems: string[] = [];

  for (const [name, header] of Object.entries<Json>(documented.headers ?? {})) {
    const spec = resolve(header);
    const value = response.headers.get(name);
    if (value === null) {
      if (spec.required) problems.push(`header ${name} is missing`);
      continue;
    }
    problems.push(...schemaErrors(value, spec.schema ?? {}).map((e) => `header ${name}: "${value}" ${e}`));
  }

  const body = await response.clone().text();
  const content: Json | undefined = documented.content;
  if (content === undefined || request.method === "HEAD") {
    if (body !== "") problems.push(`documented without a body, answered ${body.slice(0, 80)}`);
  } else {
    const type = (response.headers.get("content-type") ?? "").split(";")[0]!.trim();
    const media = content[type];
    if (!media) {
      problems.push(`content-type "${type}" is not documented (documented: ${Object.keys(content).join(", ")})`);
    } else if (type === "application/json") {
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        problems.push(`body is not JSON: ${body.slice(0, 80)}`);
      }
      if (parsed !== undefined) problems.push(...schemaErrors(parsed, media.schema).map((e) => `body ${e}`));
    }
  }
  if (problems.length > 0) {
    throw new Error(`OpenAPI: ${request.method} ${url.pathname} does not match ${where}:\n  ${problems.join("\n  ")}`);
  }
}

/** Every schema of the document, with its examples: used to check the examples. */
export function examples(): { where: string; schema: Json; example: unknown }[] {
  const found: { where: string; schema: Json; example: unknown }[] = [];
  const visit = (node: unknown, where: string) => {
    if (!node || typeof node !== "object") return;
    const object = node as Json;
    if (object.schema && "example" in object) found.push({ where, schema: object.schema, example: object.example });
    for (const [key, child] of Object.entries(object)) visit(child, `${where}/${key}`);
  };
  visit(document.paths, "#/paths");
  visit(document.components, "#/components");
  return found;
}
