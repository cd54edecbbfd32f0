import fs from 'node:fs';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Middleware } from 'openapi-fetch';
import { parse } from 'yaml';
import { API_SPEC_PATH } from '../../src/app';
import { rememberSecret } from './log-scan';

interface ResponseObject {
  content?: Record<string, { schema?: object }>;
  $ref?: string;
}
interface Spec {
  paths: Record<string, Record<string, { responses: Record<string, ResponseObject> }>>;
  components: { responses: Record<string, ResponseObject> };
}

/**
 * Checks responses against openapi.yaml with its own ajv, independent of the server's validator:
 * the status must be declared for the operation, the body must match the declared schema, and
 * `meta.request_id` must equal the `X-Request-Id` header.
 */
export class ContractChecker {
  private readonly spec: Spec;
  private readonly ajv: Ajv2020;
  private readonly validators = new Map<string, ValidateFunction>();
  /** Every response checked, as `METHOD path status`, so tests can tell what was covered. */
  readonly checked: string[] = [];

  constructor(specPath = API_SPEC_PATH) {
    this.spec = parse(fs.readFileSync(specPath, 'utf8')) as Spec;
    this.ajv = new Ajv2020({ strict: true, allErrors: true });
    this.ajv.addKeyword('example');
    addFormats(this.ajv);
    // The whole document is registered so `#/components/...` refs resolve; its top-level OpenAPI
    // fields are not JSON Schema keywords, and strict mode stays on for every schema inside.
    for (const field of Object.keys(this.spec)) this.ajv.addKeyword(field);
    this.ajv.addSchema({ ...this.spec, $id: 'openapi.json' } as object);
  }

  private resolveResponse(response: ResponseObject): ResponseObject {
    const ref = response.$ref;
    if (!ref) return response;
    const name = ref.replace('#/components/responses/', '');
    const resolved = this.spec.components.responses[name];
    if (!resolved) throw new Error(`unresolvable response ${ref}`);
    return resolved;
  }

  private validatorFor(schemaPath: string, method: string, status: string): ValidateFunction {
    const key = `${method} ${schemaPath} ${status}`;
    let validate = this.validators.get(key);
    if (!validate) {
      const operation = this.spec.paths[schemaPath]?.[method];
      if (!operation) throw new Error(`contract: ${method.toUpperCase()} ${schemaPath} is not in openapi.yaml`);
      // An exact status wins over a range (`2XX`), as OpenAPI says.
      const declared = operation.responses[status] ?? operation.responses[`${status[0]}XX`];
      if (!declared) {
        throw new Error(`contract: ${method.toUpperCase()} ${schemaPath} answered ${status}, which is not declared`);
      }
      const response = this.resolveResponse(declared);
      if (!response.content?.['application/json']?.schema) {
        throw new Error(`contract: ${key} declares no application/json schema`);
      }
      const pointer = declared.$ref
        ? `openapi.json${declared.$ref}/content/application~1json/schema`
        : `openapi.json#/paths/${schemaPath.replaceAll('~', '~0').replaceAll('/', '~1')}/${method}/responses/${operation.responses[status] ? status : `${status[0]}XX`}/content/application~1json/schema`;
      validate = this.ajv.compile({ $ref: pointer });
      this.validators.set(key, validate);
    }
    return validate;
  }

  check(schemaPath: string, method: string, status: number, headers: Headers, body: unknown): void {
    const validate = this.validatorFor(schemaPath, method.toLowerCase(), String(status));
    if (!validate(body)) {
      throw new Error(
        `contract: ${method} ${schemaPath} ${status} body does not match openapi.yaml: ${this.ajv.errorsText(validate.errors)}\n${JSON.stringify(body)}`,
      );
    }
    const requestId = (body as { meta?: { request_id?: string } }).meta?.request_id;
    if (!requestId || headers.get('x-request-id') !== requestId) {
      throw new Error(`contract: X-Request-Id (${headers.get('x-request-id')}) differs from meta.request_id (${requestId})`);
    }
    this.checked.push(`${method} ${schemaPath} ${status}`);
    // A token the API hands out is a secret the logs must never hold (test/support/log-scan.ts).
    rememberSecret((body as { data?: { secret_token?: string } }).data?.secret_token);
  }

  middleware(): Middleware {
    return {
      onResponse: async ({ request, response, schemaPath }) => {
        const contentType = response.headers.get('content-type') ?? '';
        if (!contentType.startsWith('application/json')) {
          throw new Error(`contract: ${request.method} ${schemaPath} answered ${response.status} with ${contentType || 'no content type'}`);
        }
        this.check(schemaPath, request.method, response.status, response.headers, await response.clone().json());
        return undefined;
      },
    };
  }
}

export const contract = new ContractChecker();
