/** Reading the api's OpenAPI document: its operations, their parameters and a valid value for each. */

export interface OpenApiDoc {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, Schema> };
}

interface OpenApiOperation {
  parameters?: { name: string; in: string; required?: boolean; schema?: Schema }[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
}

interface Schema {
  $ref?: string;
  type?: string;
  enum?: unknown[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  minimum?: number;
  allOf?: Schema[];
}

interface Operation {
  method: string;
  path: string;
  pathParams: string[];
  query: Record<string, Schema>;
  headers: string[];
  body?: { schema: Schema; properties: Record<string, Schema>; required: string[] };
}

function resolve(doc: OpenApiDoc, s: Schema | undefined): Schema {
  if (!s) return {};
  if (s.$ref) return resolve(doc, doc.components?.schemas?.[s.$ref.split('/').pop()!]);
  if (s.allOf) {
    const parts = s.allOf.map((p) => resolve(doc, p));
    return {
      type: 'object',
      properties: Object.assign({}, ...parts.map((p) => p.properties ?? {})),
      required: parts.flatMap((p) => p.required ?? []),
    };
  }
  return s;
}

export function operations(doc: OpenApiDoc): Operation[] {
  const out: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const params = op.parameters ?? [];
      const bodySchema = op.requestBody?.content?.['application/json']?.schema;
      const resolved = bodySchema ? resolve(doc, bodySchema) : undefined;
      out.push({
        method: method.toUpperCase(),
        path,
        pathParams: params.filter((p) => p.in === 'path').map((p) => p.name),
        query: Object.fromEntries(params.filter((p) => p.in === 'query').map((p) => [p.name, resolve(doc, p.schema)])),
        headers: params.filter((p) => p.in === 'header').map((p) => p.name),
        body: resolved
          ? { schema: resolved, properties: resolved.properties ?? {}, required: resolved.required ?? [] }
          : undefined,
      });
    }
  }
  return out;
}

/** A plausible valid value for a schema (the base every hostile variant changes one thing of). */
export function sampleValue(doc: OpenApiDoc, name: string, schema: Schema): unknown {
  const s = resolve(doc, schema);
  if (s.enum?.length) return s.enum[0];
  if (/since|until|occurred_at/.test(name)) return '2024-01-01T00:00:00Z';
  switch (s.type) {
    case 'integer':
    case 'number':
      return s.minimum ?? 1;
    case 'boolean':
      return true;
    case 'array': {
      const item = resolve(doc, s.items);
      if (item.enum?.length) return [item.enum[0]];
      return /uri|origin/.test(name) ? ['https://rp.example/cb'] : ['fuzz-target'];
    }
    case 'object':
      return {};
    default:
      if (/uri$/.test(name)) return 'https://rp.example/logout';
      return `fuzz-${name}`;
  }
}
