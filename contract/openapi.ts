/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the route table and the contract's zod
 * schemas (OpenAPI 3.1 speaks JSON Schema 2020-12, which zod emits). Served at
 * GET /api/openapi.json; docs/api.md keeps what a schema can't say (ordering, resume, semantics).
 */
import { z } from 'zod';
import { errorBodySchema } from './api';
import { ROUTES, type RouteSpec } from './routes';

type Json = Record<string, unknown>;

const COMPONENT_REF = (id: string) => `#/components/schemas/${id}`;

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Bad input: the body, a parameter or a header is not what this route takes (`details` names each problem).',
  401: 'No valid credential (a bearer token, or a session) where one is required: the code says why (unauthorized, token_expired, token_invalid, session_expired, key_revoked, key_expired).',
  403: 'The caller may see this run but not do this; or, with no API_TOKENS, the Host is not a loopback name (host_not_allowed).',
  404: 'No such run (or approval) for this caller.',
  409: 'The run or request is not in a state that allows this.',
  413: 'The body or a field is larger than this server allows.',
  415: 'The body is not JSON.',
  429: 'The caller has too many queued runs.',
  503: 'Temporal could not be reached; nothing was lost, repeat the request.',
};

/** A schema without the keys JSON Schema documents carry at their root (`$schema`, `$id`). */
function bare(schema: Json): Json {
  const { $schema: _s, $id: _i, ...rest } = schema;
  return rest;
}

/** A schema inline, with references to named components pointing into components/schemas. */
function inline(schema: z.ZodType, io: 'input' | 'output'): Json {
  const id = (schema.meta() as { id?: string } | undefined)?.id;
  if (id) return { $ref: COMPONENT_REF(id) };
  // Named schemas inside come out as local $defs: point them at the shared components instead.
  const generated = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as Json;
  const { $defs: _defs, ...rest } = bare(generated);
  return JSON.parse(JSON.stringify(rest).replace(/"#\/\$defs\/([^"]+)"/g, (_, id: string) => JSON.stringify(COMPONENT_REF(id)))) as Json;
}

function parameters(route: RouteSpec): Json[] {
  const out: Json[] = [];
  for (const [name, description] of Object.entries(route.params ?? {})) {
    out.push({ name, in: 'path', required: true, description, schema: { type: 'string' } });
  }
  for (const [name, field] of Object.entries(route.query?.shape ?? {})) {
    const schema = inline(field as z.ZodType, 'input');
    const { description, ...rest } = schema;
    out.push({ name, in: 'query', required: !(field as z.ZodType).safeParse(undefined).success, ...(description !== undefined && { description }), schema: rest });
  }
  for (const [name, description] of Object.entries(route.headers ?? {})) {
    out.push({ name, in: 'header', required: false, description, schema: { type: 'string' } });
  }
  return out;
}

function operation(name: string, route: RouteSpec): Json {
  const success: Json = { description: route.success.description };
  if (route.success.schema) success.content = { 'application/json': { schema: inline(route.success.schema, 'output') } };
  else if (route.success.mediaType) {
    success.content = { [route.success.mediaType]: { schema: { type: route.success.mediaType === 'application/json' ? 'object' : 'string' } } };
  }
  const responses: Json = { [String(route.success.status)]: success };
  // Any route may answer 403 host_not_allowed in open mode (no API_TOKENS) to a non-loopback Host.
  for (const status of [...new Set([...route.errors, 403])].sort()) responses[String(status)] = { $ref: `#/components/responses/Error${status}` };
  return {
    operationId: name,
    summary: route.summary,
    ...(route.description && { description: route.description }),
    ...(route.auth ? {} : { security: [] }),
    parameters: parameters(route),
    ...(route.body && { requestBody: { required: true, content: { 'application/json': { schema: inline(route.body, 'input') } } } }),
    ...(route.formBody && {
      requestBody: {
        required: true,
        content: {
          'application/x-www-form-urlencoded': {
            schema: {
              type: 'object',
              properties: Object.fromEntries(Object.entries(route.formBody).map(([field, description]) => [field, { type: 'string', description }])),
              required: Object.keys(route.formBody),
            },
          },
        },
      },
    }),
    responses,
  };
}

/** Every schema the contract names (`.meta({ id })`), as components. */
function componentSchemas(): Json {
  const { schemas } = z.toJSONSchema(z.globalRegistry, { io: 'output', target: 'draft-2020-12', uri: COMPONENT_REF, unrepresentable: 'any' }) as { schemas: Record<string, Json> };
  return Object.fromEntries(Object.entries(schemas).map(([id, schema]) => [id, bare(schema)]));
}

export function openApiDocument(opts: { version: string; serverUrl?: string }): Json {
  const paths: Record<string, Json> = {};
  for (const [name, route] of Object.entries(ROUTES) as [string, RouteSpec][]) {
    paths[route.path] = { ...(paths[route.path] ?? {}), [route.method]: operation(name, route) };
  }
  const errorStatuses = [...new Set([...Object.values(ROUTES as Record<string, RouteSpec>).flatMap((r) => r.errors), 403])].sort();
  const errorRef = inline(errorBodySchema, 'output');
  return {
    openapi: '3.1.0',
    info: {
      title: 'Longhaul API',
      version: opts.version,
      description: 'Durable long-running AI agent runs on Temporal. Semantics, ordering and the live protocol: docs/api.md.',
    },
    ...(opts.serverUrl && { servers: [{ url: opts.serverUrl }] }),
    security: [{ bearer: [] }, { session: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description:
            'An API key (`lh_…`, POST /api/keys), a JWT of the identity provider (OIDC_ISSUER), or a token of API_TOKENS. With none of them configured the API is open and binds to loopback only.',
        },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'longhaul_session',
          description: 'A browser session from signing in (GET /auth/login); the cookie is `__Host-longhaul_session` behind https. Requests that change state also send its CSRF token in X-CSRF-Token (GET /api/session).',
        },
      },
      schemas: componentSchemas(),
      responses: Object.fromEntries(
        errorStatuses.map((status) => [`Error${status}`, { description: ERROR_DESCRIPTIONS[status] ?? 'Error', content: { 'application/json': { schema: errorRef } } }]),
      ),
    },
  };
}
