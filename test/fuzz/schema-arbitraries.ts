import fc from 'fast-check';
import type { JsonSchema, Spec } from './openapi';

/**
 * JSON Schema -> fast-check: `validValue` draws values a schema accepts, `invalidValue` takes such a
 * value and breaks it in one place (a missing required property, an unknown one, a wrong type, a
 * bad format, a number or length out of range, an array past its bounds, a duplicate...).
 *
 * It covers the keywords openapi.yaml uses: type (and type arrays such as [string, 'null']), enum,
 * const, format uuid / date-time / uri, minLength / maxLength, minimum / maximum, minItems /
 * maxItems, items, properties / required / additionalProperties, minProperties, oneOf, anyOf,
 * allOf and local $refs. A `pattern` is not inverted: valid values are the schema's examples and
 * strings fast-check draws from the pattern.
 */

export interface SchemaContext {
  spec: Spec;
  /** What a `format: uuid` string is drawn from, so that requests can name real rows. */
  uuid: fc.Arbitrary<string>;
}

/** One way a value was made invalid, and the result (`undefined` removes a property). */
export interface Mutation {
  defect: string;
  value: unknown;
  /**
   * False when the value still satisfies the schema and is refused for a reason the spec only
   * states in prose (e.g. `message_ids` "no duplicates, compared case-insensitively").
   */
  breaksSchema: boolean;
}

// ---------------------------------------------------------------------------------------------
// Strings that make parsers, SQL and terminals unhappy.

/** SQL and JSON metacharacters: every generated string may contain them. */
export const METACHARACTERS = ["'", '"', ';', '--', '/*', '*/', '\\', '{', '}', '[', ']', '%'];

/** Odd Unicode (no lone surrogates: they cannot be sent as JSON text), control characters, NUL. */
export const ODD_UNICODE = [
  '\u0000', // NUL, sent as the JSON escape \u0000
  '\u202e', // right-to-left override
  '\u200b', // zero-width space
  '\u200d', // zero-width joiner
  '\ufeff', // byte order mark
  '\u2028', // line separator
  '\u0085', // next line
  '\u0007',
  '\t',
  '\r\n',
  '😀',
  '👩‍👩‍👧‍👦',
  '🏳️‍🌈',
  'مرحبا',
  'שלום',
  'e\u0301',
  'Ω',
  'ﬃ',
];

const NASTY_FRAGMENTS = [
  ...METACHARACTERS,
  ...ODD_UNICODE,
  "' OR '1'='1",
  "'; DROP TABLE pull_events; --",
  '" OR ""="',
  '1); SELECT pg_sleep(0); --',
  '/**/UNION/**/SELECT/**/1',
  '\\u0000',
  '\\"',
  '%00',
  '%s%n%x',
  '%27',
  '${jndi:ldap://x}',
  '{{7*7}}',
  '__proto__',
  'constructor',
  '$.type',
  'null',
  'NaN',
  '<script>alert(1)</script>',
];

/** Code points, not UTF-16 units: what JSON Schema's minLength / maxLength count. */
export function codePoints(value: string): number {
  return [...value].length;
}

function fitLength(value: string, min: number, max: number): string {
  let points = [...value];
  if (points.length > max) points = points.slice(0, max);
  while (points.length < min) points.push('x');
  return points.join('');
}

/** A string of `length` code points made of one repeated unit. */
function repeated(unit: string, length: number): string {
  const points = [...unit];
  return points.length === 1 ? unit.repeat(length) : fitLength(unit.repeat(Math.ceil(length / points.length)), length, length);
}

const LONG_UNITS = ['x', 'é', '😀', "'", '\\', '"', '%', '\u202e', 'ab;--'];

/** 10k-70k code points: past every maxLength, and past the 64 KiB body limit at the top end. */
export function longString(min = 10_000, max = 70_000): fc.Arbitrary<string> {
  return fc.tuple(fc.constantFrom(...LONG_UNITS), fc.integer({ min, max })).map(([unit, length]) => repeated(unit, length));
}

/** Strings of min..max code points made of metacharacters, odd Unicode and ordinary text. */
export function nastyString(min = 0, max = 80): fc.Arbitrary<string> {
  const part = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...NASTY_FRAGMENTS) },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 8 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 3 }) },
  );
  return fc.array(part, { minLength: 1, maxLength: 6 }).map((parts) => fitLength(parts.join(''), min, max));
}

/** Any string of min..max code points, mostly short, sometimes exactly `max` long. */
function boundedString(min: number, max: number | undefined): fc.Arbitrary<string> {
  const short = Math.min(max ?? 40, Math.max(min, 40));
  const arbitraries: fc.WeightedArbitrary<string>[] = [
    { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: min, maxLength: short }) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme-composite', minLength: min, maxLength: short }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: min, maxLength: short }) },
    { weight: 4, arbitrary: nastyString(min, max ?? 80) },
  ];
  if (max !== undefined) {
    arbitraries.push({ weight: 1, arbitrary: fc.constantFrom(...LONG_UNITS).map((unit) => repeated(unit, max)) });
  } else {
    arbitraries.push({ weight: 1, arbitrary: longString() });
  }
  return fc.oneof(...arbitraries);
}

// ---------------------------------------------------------------------------------------------
// date-time

const YEAR_0 = Date.parse('0000-01-01T00:00:00.000Z');
const YEAR_9999 = Date.parse('9999-12-31T23:59:59.999Z');
const DAY = 86_400_000;

function pad(value: number, width = 2): string {
  return String(value).padStart(width, '0');
}

/**
 * RFC 3339 date-times: Z or a numeric offset, 0-9 fraction digits, `t`/`z` in lower case (RFC 3339
 * allows it), any year 0000-9999 (mostly near now), and leap seconds (23:59:60 UTC). A few forms
 * ajv's date-time format also accepts are mixed in (a space for `T`, `+hhmm`, `+hh`): the server
 * accepts them too, so they must not break it.
 */
export function dateTime(): fc.Arbitrary<string> {
  const instant = fc.oneof(
    { weight: 6, arbitrary: fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2031, 0, 1) }) },
    { weight: 2, arbitrary: fc.integer({ min: YEAR_0 + DAY, max: YEAR_9999 - DAY }) },
    { weight: 1, arbitrary: fc.constantFrom(0, -1, 1, Date.UTC(1969, 0, 1), YEAR_0 + DAY, YEAR_9999 - DAY) },
  );
  const offset = fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }) });
  const fraction = fc.oneof(fc.constant(''), fc.stringMatching(/^\.\d{1,9}$/));
  const style = fc.record({
    separator: fc.constantFrom('T', 'T', 'T', 't', ' '),
    zulu: fc.constantFrom('Z', 'Z', 'z'),
    offsetStyle: fc.constantFrom('colon', 'colon', 'colon', 'colon', 'compact', 'hours'),
  });
  return fc
    .tuple(instant, offset, fraction, style, fc.nat({ max: 19 }))
    .map(([ms, offsetMinutes, frac, { separator, zulu, offsetStyle }, leapDice]) => {
      // Leap seconds exist only at 23:59:60 UTC; keep them to the Z form.
      if (leapDice === 19) return `${new Date(ms).toISOString().slice(0, 10)}${separator}23:59:60${frac}${zulu}`;
      const local = new Date(ms + offsetMinutes * 60_000).toISOString();
      const base = `${local.slice(0, 10)}${separator}${local.slice(11, 19)}${frac}`;
      if (offsetMinutes === 0 && offsetStyle === 'colon') return `${base}${zulu}`;
      const sign = offsetMinutes < 0 ? '-' : '+';
      const hours = Math.floor(Math.abs(offsetMinutes) / 60);
      const minutes = Math.abs(offsetMinutes) % 60;
      if (offsetStyle === 'hours' && minutes === 0) return `${base}${sign}${pad(hours)}`;
      if (offsetStyle === 'compact') return `${base}${sign}${pad(hours)}${pad(minutes)}`;
      return `${base}${sign}${pad(hours)}:${pad(minutes)}`;
    });
}

/** Strings that are not RFC 3339 date-times (ajv's full date-time format refuses every one). */
export const BAD_DATE_TIMES = [
  'yesterday',
  '',
  ' ',
  '2026-02-30T00:00:00Z',
  '2026-02-29T00:00:00Z',
  '2026-13-01T00:00:00Z',
  '2026-00-10T00:00:00Z',
  '2026-04-31T00:00:00Z',
  '2026-04-05',
  '14:23:11Z',
  '2026-04-05T24:00:01Z',
  '2026-04-05T25:00:00Z',
  '2026-04-05T14:60:00Z',
  '2026-04-05T14:23:61Z',
  '2026-04-05T14:23:11',
  '2026-04-05T14:23:11+24:00',
  '2026-04-05T14:23:11+02:60',
  '2026-04-05T14:23:11ZZ',
  '2026-04-05T14:23:11.Z',
  '2026-04-05T14:23:11,123Z',
  '+002026-04-05T14:23:11Z',
  '20260405T142311Z',
  '1775398991123',
  '2026-04-05T14:23:11Z\u0000',
  "2026-04-05T14:23:11Z' OR '1'='1",
  '２０２６-04-05T14:23:11Z',
  '2026-04-05T14:23:11 Z',
  'NaN',
];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Strings that are not UUIDs, built around a real one where that makes them more tempting. */
export function badUuids(uuid: string): string[] {
  const hex = uuid.replaceAll('-', '');
  const candidates = [
    'not-a-uuid',
    `urn:uuid:${uuid}`,
    hex,
    `{${uuid}}`,
    `${uuid} `,
    ` ${uuid}`,
    `${uuid}\n`,
    `${uuid}\u0000`,
    uuid.slice(0, -1),
    `${uuid}0`,
    `${uuid.slice(0, -1)}g`,
    uuid.replaceAll('-', '_'),
    `${uuid.slice(0, 8)}${uuid.slice(9)}`,
    uuid.replace(/[0-9]/, '０'),
    "'; DROP TABLE pull_events; --",
    `${uuid}' OR '1'='1`,
    '00000000-0000-0000-0000-00000000000',
    '0',
    '-1',
    'null',
    '\u202e',
    '😀',
    '%',
    '{}',
    '[]',
  ];
  // Some edits leave an all-letter id such as ffffffff-... unchanged.
  return candidates.filter((candidate) => !UUID.test(candidate));
}


// ---------------------------------------------------------------------------------------------
// Valid values

type JsonType = 'null' | 'boolean' | 'integer' | 'number' | 'string' | 'array' | 'object';

function typesOf(schema: JsonSchema): JsonType[] | undefined {
  if (Array.isArray(schema.type)) return schema.type as JsonType[];
  if (typeof schema.type === 'string') return [schema.type as JsonType];
  if (schema.properties || schema.additionalProperties !== undefined || schema.minProperties !== undefined) return ['object'];
  if (schema.items || schema.minItems !== undefined || schema.maxItems !== undefined) return ['array'];
  return undefined;
}

/** The resolved schema with `allOf` merged into it (properties, required and the rest). */
export function flatten(schema: JsonSchema, spec: Spec): JsonSchema {
  const resolved = spec.resolve(schema);
  if (!resolved.allOf) return resolved;
  const { allOf, ...rest } = resolved;
  let merged: JsonSchema = rest;
  for (const part of allOf.map((p) => flatten(p, spec))) {
    merged = {
      ...merged,
      ...part,
      properties: { ...merged.properties, ...part.properties },
      required: [...(merged.required ?? []), ...(part.required ?? [])],
    };
  }
  return merged;
}

/** A pattern's examples, mostly; strings fast-check draws from the pattern itself otherwise. */
function patternStrings(schema: JsonSchema): fc.Arbitrary<string> {
  const regExp = new RegExp(schema.pattern ?? '', 'u');
  const examples = [...(schema.examples ?? []), ...(schema.example !== undefined ? [schema.example] : [])];
  const usable = examples.filter((e): e is string => typeof e === 'string' && regExp.test(e));
  const drawn = fc.stringMatching(regExp);
  return usable.length === 0 ? drawn : fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...usable) }, { weight: 1, arbitrary: drawn });
}

function stringValue(schema: JsonSchema, ctx: SchemaContext): fc.Arbitrary<string> {
  switch (schema.format) {
    case 'uuid':
      return ctx.uuid;
    case 'date-time':
      return dateTime();
    case 'uri':
      return fc.webUrl();
  }
  if (schema.pattern !== undefined) return patternStrings(schema);
  return boundedString(schema.minLength ?? 0, schema.maxLength);
}

/** Any JSON value, with nasty strings and keys; `depth` bounds the nesting. */
export function anyJson(depth = 3): fc.Arbitrary<unknown> {
  const key = fc.oneof(fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 10 }), nastyString(0, 20));
  const leaf = fc.oneof(
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    { weight: 3, arbitrary: nastyString(0, 60) },
    { weight: 1, arbitrary: fc.oneof({ weight: 30, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) }, { weight: 1, arbitrary: longString() }) },
  );
  if (depth <= 0) return leaf;
  const inner = anyJson(depth - 1);
  return fc.oneof(
    { weight: 3, arbitrary: leaf },
    { weight: 1, arbitrary: fc.array(inner, { maxLength: 4 }) },
    { weight: 1, arbitrary: fc.dictionary(key, inner, { maxKeys: 4 }) },
  );
}

/** How an array that forbids duplicates compares its items: UUIDs in any letter case, other strings exactly. */
type Sameness = 'exact' | 'any case';

function arrayOf(items: fc.Arbitrary<unknown>, unique: Sameness | undefined, minLength: number, maxLength: number): fc.Arbitrary<unknown[]> {
  if (!unique) return fc.array(items, { minLength, maxLength });
  const key = (v: unknown) => (typeof v !== 'string' ? JSON.stringify(v) : unique === 'any case' ? v.toLowerCase() : v);
  return fc.uniqueArray(items, { minLength, maxLength, selector: key });
}

/**
 * The spec says so in prose only: `message_ids` are "no duplicates, compared case-insensitively"
 * (UUIDs), `lease_ids` "no duplicates" (opaque base64url, where letter case matters).
 */
function forbidsDuplicates(schema: JsonSchema, spec: Spec): Sameness | undefined {
  if (!/no duplicates/i.test(schema.description ?? '')) return undefined;
  return schema.items && flatten(schema.items, spec).format === 'uuid' ? 'any case' : 'exact';
}

function valueOfType(schema: JsonSchema, type: JsonType, ctx: SchemaContext): fc.Arbitrary<unknown> {
  switch (type) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1_000_000_000, max: schema.maximum ?? 1_000_000_000 });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e9, max: schema.maximum ?? 1e9, noNaN: true, noDefaultInfinity: true });
    case 'string':
      return stringValue(schema, ctx);
    case 'array': {
      const items = schema.items ? validValue(schema.items, ctx) : anyJson(2);
      const min = schema.minItems ?? 0;
      const max = schema.maxItems;
      const unique = forbidsDuplicates(schema, ctx.spec);
      const typical = arrayOf(items, unique, min, Math.min(max ?? 6, Math.max(min, 6)));
      return max === undefined ? typical : fc.oneof({ weight: 6, arbitrary: typical }, { weight: 1, arbitrary: arrayOf(items, unique, max, max) });
    }
    case 'object': {
      const properties = schema.properties ?? {};
      const model: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [name, property] of Object.entries(properties)) model[name] = validValue(property, ctx);
      let object: fc.Arbitrary<Record<string, unknown>> = fc.record(model, { requiredKeys: schema.required ?? [] });
      if (schema.additionalProperties !== false && Object.keys(properties).length === 0) {
        // An open object without declared properties (the webhook body): anything goes.
        object = fc.dictionary(fc.oneof(fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 12 }), nastyString(0, 20)), anyJson(2), {
          maxKeys: 6,
        });
      }
      const minProperties = schema.minProperties ?? 0;
      return minProperties > 0 ? object.filter((o) => Object.keys(o).length >= minProperties) : object;
    }
  }
}

/** Values the schema accepts. */
export function validValue(schema: JsonSchema, ctx: SchemaContext): fc.Arbitrary<unknown> {
  const s = flatten(schema, ctx.spec);
  const branches = s.oneOf ?? s.anyOf;
  if (branches) return fc.oneof(...branches.map((branch) => validValue(branch, ctx)));
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum) return fc.constantFrom(...s.enum);
  const types = typesOf(s);
  if (!types) return anyJson();
  return fc.oneof(...types.map((type) => valueOfType(s, type, ctx)));
}

// ---------------------------------------------------------------------------------------------
// Invalid values

function jsonTypeOf(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value as JsonType;
}

function allowedTypes(s: JsonSchema, spec: Spec): Set<JsonType> | undefined {
  const branches = s.oneOf ?? s.anyOf;
  if (branches) {
    const all = new Set<JsonType>();
    for (const branch of branches) {
      const types = allowedTypes(flatten(branch, spec), spec);
      if (!types) return undefined;
      types.forEach((t) => all.add(t));
    }
    return all;
  }
  if (s.const !== undefined) return new Set([jsonTypeOf(s.const)]);
  if (s.enum) return new Set(s.enum.map(jsonTypeOf));
  const types = typesOf(s);
  return types && new Set(types);
}

function accepts(types: Set<JsonType>, value: unknown): boolean {
  const type = jsonTypeOf(value);
  return types.has(type) || (type === 'integer' && types.has('number'));
}

const WRONG_TYPED: unknown[] = [null, true, false, 0, 7, 1.5, -2.25, '', 'text', "'; --", '7', 'true', 'null', [], [1], {}, { a: 1 }];

/** Keys no schema declares: case and spacing variants, mass-assignment bait and metacharacters. */
const EXTRA_KEYS = [
  'extra',
  'Name',
  'name ',
  ' name',
  'id',
  'project_id',
  'deleted_at',
  'paused_at',
  'secret_token',
  '__proto__',
  'constructor',
  "'; DROP TABLE pull_endpoints; --",
  '\u0000',
  '😀',
  '',
  '$where',
];

function withKey(object: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(object)) Object.defineProperty(copy, k, { value: v, enumerable: true, writable: true, configurable: true });
  if (value === undefined) {
    delete copy[key];
  } else {
    // defineProperty, so that '__proto__' becomes an own key that JSON.stringify sends.
    Object.defineProperty(copy, key, { value, enumerable: true, writable: true, configurable: true });
  }
  return copy;
}

function join(where: string, key: string | number): string {
  if (typeof key === 'number') return `${where}[${key}]`;
  return where ? `${where}.${key}` : key;
}

function describeValue(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}

/** One-place breakages of `value` (which satisfies `schema`); `where` names its location. */
export function mutationsOf(schema: JsonSchema, value: unknown, ctx: SchemaContext, where: string, wrongTypes = true): fc.Arbitrary<Mutation>[] {
  const s = flatten(schema, ctx.spec);
  const at = where || 'body';
  const out: fc.Arbitrary<Mutation>[] = [];
  const broken = (defect: string, v: unknown): Mutation => ({ defect: `${at}: ${defect}`, value: v, breaksSchema: true });

  const types = allowedTypes(s, ctx.spec);
  if (types && wrongTypes) {
    const wrong = WRONG_TYPED.filter((candidate) => !accepts(types, candidate));
    if (wrong.length > 0) out.push(fc.constantFrom(...wrong).map((v) => broken(`wrong type ${describeValue(v)}`, v)));
  }

  if (s.const !== undefined && typeof s.const === 'string') {
    const variants = [`${s.const}x`, s.const.toUpperCase(), '', ` ${s.const}`].filter((v) => v !== s.const);
    out.push(fc.constantFrom(...variants).map((v) => broken(`not the constant ${describeValue(s.const)}`, v)));
  }
  // `all: false` where only `all: true` is allowed.
  if (typeof s.const === 'boolean') out.push(fc.constant(broken(`not the constant ${s.const}`, !s.const)));
  if (s.enum) {
    const strings = s.enum.filter((e): e is string => typeof e === 'string');
    const variants = [...strings.map((e) => e.toUpperCase()), ...strings.map((e) => `${e} `), 'lost', '', 'any ', "stored' OR '1'='1"].filter(
      (v) => !s.enum!.includes(v),
    );
    out.push(fc.constantFrom(...variants).map((v) => broken(`not in enum ${describeValue(v)}`, v)));
  }

  const branches = s.oneOf ?? s.anyOf;
  if (branches) {
    // The branch `value` came from, to break it from inside; plus a value matching two branches.
    // Inside it, wrong types are left out: the union's were drawn above, and a type the branch
    // refuses may be another branch's (`null` in `oneOf: [HeaderName, null]`).
    const resolved = branches.map((b) => flatten(b, ctx.spec));
    const own = resolved.find((b) => {
      const branchTypes = allowedTypes(b, ctx.spec);
      if (value === null || (branchTypes && !accepts(branchTypes, value))) return false;
      return typeof value !== 'object' || (b.required ?? []).every((k) => k in value);
    });
    if (own) out.push(...mutationsOf(own, value, ctx, where, false));
    if (s.oneOf && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const others = resolved.filter((b) => b !== own);
      if (others.length > 0) {
        out.push(
          fc
            .constantFrom(...others)
            .chain((other) => validValue(other, ctx))
            .map((otherValue) => broken('matches two oneOf branches', { ...(otherValue as object), ...(value as object) })),
        );
      }
    }
    return out;
  }

  if (typeof value === 'string') out.push(...stringMutations(s, value, broken));
  if (typeof value === 'number') out.push(...numberMutations(s, value, broken));
  if (Array.isArray(value)) out.push(...arrayMutations(s, value, ctx, where, broken));
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    out.push(...objectMutations(s, value as Record<string, unknown>, ctx, where, broken));
  }
  return out;
}

type Broken = (defect: string, value: unknown) => Mutation;

function stringMutations(s: JsonSchema, value: string, broken: Broken): fc.Arbitrary<Mutation>[] {
  const out: fc.Arbitrary<Mutation>[] = [];
  if (s.format === 'uuid') out.push(fc.constantFrom(...badUuids(value)).map((v) => broken(`not a UUID ${describeValue(v)}`, v)));
  if (s.format === 'date-time') out.push(fc.constantFrom(...BAD_DATE_TIMES).map((v) => broken(`not a date-time ${describeValue(v)}`, v)));
  if (s.pattern !== undefined) {
    const regExp = new RegExp(s.pattern, 'u');
    const variants = ['', ' ', `${value} `, `${value}\u0000`, `\u202e${value}`, `${value}'; --`, value.slice(1), `${value}/*`, 'x'.repeat(300)].filter(
      (v) => !regExp.test(v),
    );
    if (variants.length > 0) out.push(fc.constantFrom(...variants).map((v) => broken(`does not match ${s.pattern}`, v)));
  }
  const min = s.minLength ?? 0;
  if (min > 0) out.push(fc.constant(broken(`shorter than ${min}`, [...value].slice(0, min - 1).join(''))));
  if (s.maxLength !== undefined) {
    const max = s.maxLength;
    out.push(
      fc
        .tuple(fc.constantFrom(...LONG_UNITS), fc.integer({ min: 1, max: 5 }))
        .map(([unit, extra]) => broken(`longer than ${max} (${max + extra} code points)`, repeated(unit, max + extra))),
    );
  }
  if (s.maxLength !== undefined || s.format !== undefined || s.pattern !== undefined) {
    out.push(longString().map((v) => broken(`${codePoints(v)} code points long`, v)));
  }
  return out;
}

function numberMutations(s: JsonSchema, value: number, broken: Broken): fc.Arbitrary<Mutation>[] {
  const out: fc.Arbitrary<Mutation>[] = [];
  const types = typesOf(s) ?? [];
  if (s.minimum !== undefined) {
    const min = s.minimum;
    out.push(fc.constantFrom(min - 1, min - 1000, -2147483649, Number.MIN_SAFE_INTEGER).map((v) => broken(`below minimum ${min}: ${v}`, v)));
  }
  if (s.maximum !== undefined) {
    const max = s.maximum;
    out.push(fc.constantFrom(max + 1, max + 1000, 2 ** 31, 2 ** 53, 1e300).map((v) => broken(`above maximum ${max}: ${v}`, v)));
  }
  if (types.includes('integer') && !types.includes('number')) {
    out.push(fc.constantFrom(value + 0.5, 1.5, 1e-7, -0.25).map((v) => broken(`not an integer: ${v}`, v)));
  }
  return out;
}

function arrayMutations(s: JsonSchema, value: unknown[], ctx: SchemaContext, where: string, broken: Broken): fc.Arbitrary<Mutation>[] {
  const out: fc.Arbitrary<Mutation>[] = [];
  const min = s.minItems ?? 0;
  const items = s.items ? validValue(s.items, ctx) : anyJson(1);
  if (min > 0) out.push(fc.constant(broken(`fewer than ${min} items`, value.slice(0, min - 1))));
  if (s.maxItems !== undefined) {
    const max = s.maxItems;
    const unique = forbidsDuplicates(s, ctx.spec);
    out.push(
      fc
        .integer({ min: max + 1, max: max + 3 })
        .chain((n) => arrayOf(items, unique, n, n))
        .map((v) => broken(`more than ${max} items (${v.length})`, v)),
    );
  }
  if (s.items && value.length > 0) {
    const itemSchema = s.items;
    out.push(
      fc.nat({ max: value.length - 1 }).chain((i) =>
        fc.oneof(...mutationsOf(itemSchema, value[i], ctx, join(where, i))).map((m) => {
          const copy = [...value];
          copy[i] = m.value;
          return { ...m, value: copy };
        }),
      ),
    );
  }
  const sameness = forbidsDuplicates(s, ctx.spec);
  if (sameness && value.length > 0 && (s.maxItems === undefined || value.length < s.maxItems)) {
    out.push(
      fc.tuple(fc.nat({ max: value.length - 1 }), fc.nat({ max: value.length }), fc.boolean()).map(([from, to, caseChange]) => {
        const copy = [...value];
        const item = value[from];
        const upper = caseChange && sameness === 'any case' && typeof item === 'string';
        copy.splice(to, 0, upper ? item.toUpperCase() : item);
        return { defect: `${where || 'body'}: ${describeValue(item)} twice${upper ? ' (once upper-case)' : ''}`, value: copy, breaksSchema: false };
      }),
    );
  }
  return out;
}

function objectMutations(
  s: JsonSchema,
  value: Record<string, unknown>,
  ctx: SchemaContext,
  where: string,
  broken: Broken,
): fc.Arbitrary<Mutation>[] {
  const out: fc.Arbitrary<Mutation>[] = [];
  const properties = s.properties ?? {};
  const present = (s.required ?? []).filter((k) => k in value);
  if (present.length > 0) out.push(fc.constantFrom(...present).map((k) => broken(`missing required ${k}`, withKey(value, k, undefined))));
  if (s.additionalProperties === false) {
    const keys = EXTRA_KEYS.filter((k) => !(k in properties));
    out.push(
      fc
        .tuple(fc.constantFrom(...keys), anyJson(1))
        .map(([k, v]) => broken(`unknown property ${describeValue(k)}`, withKey(value, k, v === undefined ? null : v))),
    );
  }
  if (s.minProperties !== undefined && s.minProperties > 0) out.push(fc.constant(broken(`fewer than ${s.minProperties} properties`, {})));
  const mutable = Object.keys(value).filter((k) => k in properties);
  for (const key of mutable) {
    const property = properties[key]!;
    const inner = mutationsOf(property, value[key], ctx, join(where, key));
    if (inner.length > 0) out.push(fc.oneof(...inner).map((m) => ({ ...m, value: withKey(value, key, m.value) })));
  }
  return out;
}

/** `value` (which satisfies `schema`) broken in one place. */
export function invalidValue(schema: JsonSchema, value: unknown, ctx: SchemaContext, where = ''): fc.Arbitrary<Mutation> {
  const candidates = mutationsOf(schema, value, ctx, where);
  if (candidates.length === 0) throw new Error(`no way to break ${where || 'the body'} of ${JSON.stringify(schema)}`);
  return fc.oneof(...candidates);
}
