/**
 * Checks real HTTP answers against the served OpenAPI document: the status must be one the
 * document lists for that route, and a JSON body must match the schema it gives for that status
 * (Ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses). Records which routes and statuses were seen, so
 * a test can insist that every route was exercised.
 */
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

type Json = Record<string, any>;

export interface Checked {
  operationId: string;
  status: number;
}

export class OpenApiChecker {
  private readonly ajv = new Ajv2020({ strict: false, allErrors: true });
  private readonly operations: { method: string; pattern: RegExp; template: string; op: Json }[] = [];
  readonly seen: Checked[] = [];

  constructor(private readonly doc: Json) {
    addFormats(this.ajv);
    this.ajv.addSchema(doc, 'openapi.json');
    for (const [template, item] of Object.entries(doc.paths as Record<string, Json>)) {
      const pattern = new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+')}$`);
      for (const [method, op] of Object.entries(item)) this.operations.push({ method: method.toUpperCase(), pattern, template, op });
    }
  }

  /** Throws unless the answer fits the document; returns the operation it matched. */
  check(method: string, url: string, status: number, contentType: string | null, body: unknown): Checked {
    const pathname = new URL(url, 'http://x').pathname;
    const found = this.operations.find((o) => o.method === method && o.pattern.test(pathname));
    if (!found) throw new Error(`${method} ${pathname} is not in the OpenAPI document`);
    let response: Json | undefined = found.op.responses[String(status)];
    if (!response) throw new Error(`${method} ${found.template} answered ${status}, which the document does not list (${Object.keys(found.op.responses).join(', ')})`);
    if (response.$ref) response = this.resolve(response.$ref as string);
    const content = response!.content as Json | undefined;
    const json = content?.['application/json'];
    if (json) {
      if (!contentType?.startsWith('application/json')) throw new Error(`${method} ${found.template} ${status}: expected JSON, got ${contentType}`);
      const pointer = found.op.responses[String(status)].$ref
        ? `${found.op.responses[String(status)].$ref}/content/application~1json/schema`
        : `#/paths/${escape(found.template)}/${method.toLowerCase()}/responses/${status}/content/application~1json/schema`;
      const validate = this.ajv.getSchema(`openapi.json${pointer}`);
      if (!validate) throw new Error(`no schema at ${pointer}`);
      if (!validate(body)) {
        throw new Error(`${method} ${found.template} ${status}: body does not match the document: ${this.ajv.errorsText(validate.errors)}\n${JSON.stringify(body).slice(0, 2000)}`);
      }
    } else if (content) {
      const [mediaType] = Object.keys(content);
      if (mediaType !== '*/*' && !contentType?.startsWith(mediaType!)) throw new Error(`${method} ${found.template} ${status}: expected ${mediaType}, got ${contentType}`);
    }
    const checked = { operationId: found.op.operationId as string, status };
    this.seen.push(checked);
    return checked;
  }

  private resolve(ref: string): Json {
    return ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<Json>((node, part) => node[part.replace(/~1/g, '/').replace(/~0/g, '~')], this.doc);
  }

  /** Operations (with their success status) never seen answering that status. */
  unexercised(): string[] {
    const out: string[] = [];
    for (const { op } of this.operations) {
      // A redirect is the success of the sign-in routes.
      const success = Object.keys(op.responses).find((s) => s.startsWith('1') || s.startsWith('2') || s.startsWith('3'));
      if (!this.seen.some((c) => c.operationId === op.operationId && String(c.status) === success)) out.push(`${op.operationId} ${success}`);
    }
    return out;
  }
}

/** A path as a JSON pointer segment. */
function escape(template: string): string {
  return template.replace(/~/g, '~0').replace(/\//g, '~1');
}
