import fs from 'node:fs';
import path from 'node:path';
import { getDMMF } from '@prisma/internals';
import pg from 'pg';
import { testDatabaseUrl } from '../support/server';

type DMMF = Awaited<ReturnType<typeof getDMMF>>;
type Model = DMMF['datamodel']['models'][number];
type Field = Model['fields'][number];

const SCHEMA_PATH = path.resolve(__dirname, '../../prisma/schema.prisma');
const IGNORED_TABLES = new Set(['_prisma_migrations']);
// A table may be hash-partitioned (src/db/partition.ts): it is then checked as its parent, which
// holds the columns, indexes and foreign keys; its partitions hold copies PostgreSQL keeps equal
// (relispartition, or a constraint's conparentid), and anything of a partition's own (an index
// on one partition alone) still counts as drift.

let dmmf: DMMF;
let client: pg.Client;

beforeAll(async () => {
  dmmf = await getDMMF({ datamodel: fs.readFileSync(SCHEMA_PATH, 'utf8') });
  client = new pg.Client({ connectionString: testDatabaseUrl() });
  await client.connect();
});
afterAll(() => client.end());

const tableOf = (model: Model) => model.dbName ?? model.name;
const columnOf = (field: Pick<Field, 'dbName' | 'name'>) => field.dbName ?? field.name;

/** The PostgreSQL type Prisma's migrate would create for a scalar or enum field. */
function expectedType(field: Field): string {
  if (field.kind === 'enum') {
    const enumType = dmmf.datamodel.enums.find((e) => e.name === field.type);
    return enumType?.dbName ?? field.type;
  }
  const [native, args = []] = (field.nativeType ?? []) as [string?, string[]?];
  switch (`${field.type}:${native ?? ''}`) {
    case 'String:':
    case 'String:Text':
      return 'text';
    case 'String:Uuid':
      return 'uuid';
    case 'String:Char':
      return `character(${args[0]})`;
    case 'String:VarChar':
      return `character varying(${args[0]})`;
    case 'DateTime:':
      return 'timestamp(3) without time zone';
    case 'DateTime:Timestamptz':
      return `timestamp(${args[0] ?? 6}) with time zone`;
    case 'Json:':
    case 'Json:JsonB':
      return 'jsonb';
    case 'Int:':
      return 'integer';
    case 'Int:SmallInt':
      return 'smallint';
    case 'BigInt:':
      return 'bigint';
    case 'Boolean:':
      return 'boolean';
    case 'Bytes:':
      return 'bytea';
  }
  throw new Error(`schema-drift test: add a type mapping for ${field.type} @db.${native}`);
}

async function rows<T>(sql: string): Promise<T[]> {
  return (await client.query(sql)).rows as T[];
}

it('has exactly the tables and columns of schema.prisma, with their types, nullability and defaults', async () => {
  const expected = dmmf.datamodel.models.flatMap((model) =>
    model.fields
      .filter((field) => field.kind === 'scalar' || field.kind === 'enum')
      .map((field) => ({
        column: `${tableOf(model)}.${columnOf(field)}`,
        type: `${expectedType(field)}${field.isList ? '[]' : ''}`,
        notNull: field.isRequired,
        hasDefault: field.hasDefaultValue,
      })),
  );
  const actual = await rows<{ column: string; type: string; notNull: boolean; hasDefault: boolean }>(`
    SELECT c.relname || '.' || a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type,
           a.attnotnull AS "notNull", a.atthasdef AS "hasDefault"
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND a.attnum > 0 AND NOT a.attisdropped`);

  const byColumn = (a: { column: string }, b: { column: string }) => a.column.localeCompare(b.column);
  expect(actual.filter((row) => !IGNORED_TABLES.has(row.column.split('.')[0]!)).sort(byColumn)).toEqual(expected.sort(byColumn));
});

it('has the enums of schema.prisma with their values in order', async () => {
  const expected = dmmf.datamodel.enums.map((e) => ({ name: e.dbName ?? e.name, values: e.values.map((v) => v.dbName ?? v.name) }));
  const actual = await rows<{ name: string; values: string[] }>(`
    SELECT t.typname AS name, array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS values
    FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname ORDER BY t.typname`);
  expect(actual).toEqual(expected.sort((a, b) => a.name.localeCompare(b.name)));
});

/**
 * Prisma's schema cannot declare a partial index: schema.prisma states each one's predicate in the
 * doc comment above it (`/// Partial in the migration: WHERE ...`), and the database must have that
 * predicate, no other, and no predicate on the other indexes.
 */
function declaredPredicates(): Map<string, string> {
  const schema = fs.readFileSync(SCHEMA_PATH, 'utf8');
  const declared = new Map<string, string>();
  for (const match of schema.matchAll(/\/\/\/ Partial in the migration: WHERE (.+?)\.?\n\s*@@index\([^\n]*map: "([^"]+)"/g)) {
    declared.set(match[2]!, normalizePredicate(match[1]!));
  }
  return declared;
}

/** A predicate as text to compare: no casts, parentheses or quoted identifiers, one case, single spaces. */
function normalizePredicate(sql: string): string {
  return sql.replace(/::[a-z_]+/g, '').replace(/[()"]/g, '').replace(/\s+/g, ' ').trim().toLowerCase();
}

it('has the primary keys, unique constraints and indexes of schema.prisma, named as Prisma names them', async () => {
  const predicates = declaredPredicates();
  const expected = dmmf.datamodel.indexes.map((index) => {
    const model = dmmf.datamodel.models.find((m) => m.name === index.model)!;
    const table = tableOf(model);
    const columns = index.fields.map((f) => columnOf(model.fields.find((field) => field.name === f.name)!));
    const suffix = index.type === 'id' ? 'pkey' : index.type === 'unique' ? 'key' : 'idx';
    const name = index.dbName ?? (index.type === 'id' ? `${table}_pkey` : `${table}_${columns.join('_')}_${suffix}`);
    return { name, table, columns, unique: index.type !== 'normal', primary: index.type === 'id', valid: true, predicate: predicates.get(name) ?? null };
  });
  const found = await rows<{ name: string; table: string; columns: string[]; unique: boolean; primary: boolean; valid: boolean; predicate: string | null }>(`
    SELECT ic.relname AS name, tc.relname AS table,
           array(SELECT a.attname::text FROM unnest(i.indkey) WITH ORDINALITY k(attnum, ord)
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS columns,
           i.indisunique AS unique, i.indisprimary AS primary, i.indisvalid AS valid,
           pg_get_expr(i.indpred, i.indrelid) AS predicate
    FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class tc ON tc.oid = i.indrelid
    JOIN pg_namespace n ON n.oid = tc.relnamespace
    WHERE n.nspname = 'public' AND NOT ic.relispartition`);
  const actual = found.map((row) => ({ ...row, predicate: row.predicate === null ? null : normalizePredicate(row.predicate) }));
  expect([...predicates.keys()].sort()).toEqual(expected.filter((index) => index.predicate !== null).map((index) => index.name).sort());
  const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
  expect(actual.filter((row) => !IGNORED_TABLES.has(row.table)).sort(byName)).toEqual(expected.sort(byName));
});

it('has the foreign keys of schema.prisma with their delete rules', async () => {
  const expected = dmmf.datamodel.models.flatMap((model) =>
    model.fields
      .filter((field) => field.kind === 'object' && (field.relationFromFields?.length ?? 0) > 0)
      .map((field) => {
        const target = dmmf.datamodel.models.find((m) => m.name === field.type)!;
        const columns = field.relationFromFields!.map((f) => columnOf(model.fields.find((x) => x.name === f)!));
        const optional = !field.isRequired;
        return {
          name: `${tableOf(model)}_${columns.join('_')}_fkey`,
          references: `${tableOf(target)}(${field.relationToFields!.map((f) => columnOf(target.fields.find((x) => x.name === f)!)).join(',')})`,
          onDelete: (field.relationOnDelete ?? (optional ? 'SetNull' : 'Restrict')).toUpperCase(),
        };
      }),
  );
  const actual = await rows<{ name: string; references: string; onDelete: string }>(`
    SELECT c.conname AS name,
           t.relname || '(' || array_to_string(array(
             SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum ORDER BY k.ord), ',') || ')' AS references,
           CASE c.confdeltype WHEN 'r' THEN 'RESTRICT' WHEN 'n' THEN 'SETNULL' WHEN 'c' THEN 'CASCADE'
                              WHEN 'a' THEN 'NOACTION' WHEN 'd' THEN 'SETDEFAULT' END AS "onDelete"
    FROM pg_constraint c JOIN pg_class t ON t.oid = c.confrelid WHERE c.contype = 'f' AND c.conparentid = 0`);
  const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
  expect(actual.sort(byName)).toEqual(expected.sort(byName));
});
