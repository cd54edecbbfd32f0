import pg from 'pg';
import { MIGRATION_LOCK_KEY } from './migrate';
import { parseDatabaseUrl } from './pooler';

const TABLE = 'pull_events';
const PARTITION_KEY = 'pull_endpoint_id';
/** The partitioned table's name until the old one is gone. */
const STAGING = 'pull_events_partitioning';
export const MAX_PARTITIONS = 1024;

/** Why `n` is no number of partitions (an integer from 1 to MAX_PARTITIONS), or null when it is one. */
export function partitionCountProblem(n: number): string | null {
  return Number.isInteger(n) && n >= 1 && n <= MAX_PARTITIONS ? null : `must be an integer from 1 to ${MAX_PARTITIONS}`;
}

const CONNECT_TIMEOUT_MS = 10_000;

export interface PartitionOutcome {
  /** Events moved into the partitioned table; 0 when it was partitioned already. */
  moved: number;
  /** Partitions the table has now. */
  partitions: number;
  /** True when the table was partitioned before this call, which then changed nothing. */
  alreadyPartitioned: boolean;
}

/** pull_events_p00 .. pull_events_p15: as many digits as the last index needs, at least two. */
export function partitionName(index: number, count: number): string {
  return `${TABLE}_p${String(index).padStart(Math.max(2, String(count - 1).length), '0')}`;
}

const ident = (name: string) => `"${name.replaceAll('"', '""')}"`;
const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;

// What the copy below does not carry over. A table with any of them is refused, whole, rather
// than partitioned without it.
const UNSUPPORTED_SQL = `
  SELECT array_remove(ARRAY[
    CASE WHEN c.relrowsecurity OR c.relforcerowsecurity OR EXISTS (SELECT 1 FROM pg_policy WHERE polrelid = c.oid)
         THEN 'row-level security' END,
    CASE WHEN EXISTS (SELECT 1 FROM pg_rewrite WHERE ev_class = c.oid) THEN 'rules' END,
    CASE WHEN EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = c.oid OR inhparent = c.oid) THEN 'inheritance' END,
    CASE WHEN EXISTS (SELECT 1 FROM pg_publication_rel WHERE prrelid = c.oid) THEN 'a publication' END,
    CASE WHEN EXISTS (SELECT 1 FROM pg_statistic_ext WHERE stxrelid = c.oid) THEN 'extended statistics' END,
    CASE WHEN c.relreplident <> 'd' THEN 'a replica identity other than the default' END,
    CASE WHEN EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = c.oid AND attnum > 0 AND NOT attisdropped
                      AND (attidentity <> '' OR attgenerated <> '' OR attacl IS NOT NULL))
         THEN 'identity, generated or column-privileged columns' END,
    CASE WHEN EXISTS (SELECT 1 FROM pg_depend WHERE refobjid = c.oid AND refclassid = 'pg_class'::regclass AND deptype = 'a'
                      AND classid = 'pg_class'::regclass AND (SELECT relkind FROM pg_class s WHERE s.oid = objid) = 'S')
         THEN 'a sequence owned by a column (serial)' END,
    CASE WHEN EXISTS (SELECT 1 FROM pg_index WHERE indrelid = c.oid AND NOT (indisvalid AND indisready))
         THEN 'an invalid index (a failed CREATE INDEX CONCURRENTLY: drop or rebuild it first)' END,
    CASE WHEN EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = c.oid AND NOT tgisinternal AND tgenabled <> 'O')
         THEN 'a disabled or replica-only trigger' END
  ], NULL) AS reasons
  FROM pg_class c WHERE c.oid = $1`;

/**
 * Everything to re-create on the partitioned table, read from the catalog, so that what later
 * migrations add is copied as well: statements to run once the new table has the old one's name,
 * in order (index-backed constraints, then the other indexes, checks, foreign keys, triggers,
 * comments, statistics targets, grants). pg_get_indexdef and pg_get_constraintdef name the table,
 * which then is the new one.
 */
const RECREATE_SQL = `
  SELECT stmt FROM (
    SELECT 1 AS step, con.conname::text AS name,
           format('ALTER TABLE %s ADD CONSTRAINT %I %s', $1::oid::regclass, con.conname, pg_get_constraintdef(con.oid)) AS stmt
    FROM pg_constraint con WHERE con.conrelid = $1::oid AND con.contype IN ('p', 'u', 'x')
    UNION ALL
    SELECT 2, ic.relname::text, pg_get_indexdef(i.indexrelid)
    FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
    WHERE i.indrelid = $1::oid AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid AND con.conrelid = $1::oid)
    UNION ALL
    SELECT 3, con.conname::text, format('ALTER TABLE %s ADD CONSTRAINT %I %s', $1::oid::regclass, con.conname, pg_get_constraintdef(con.oid))
    FROM pg_constraint con WHERE con.conrelid = $1::oid AND con.contype = 'c'
    UNION ALL
    SELECT 4, con.conname::text, format('ALTER TABLE %s ADD CONSTRAINT %I %s', $1::oid::regclass, con.conname, pg_get_constraintdef(con.oid))
    FROM pg_constraint con WHERE con.conrelid = $1::oid AND con.contype = 'f'
    UNION ALL
    SELECT 5, t.tgname::text, pg_get_triggerdef(t.oid)
    FROM pg_trigger t WHERE t.tgrelid = $1::oid AND NOT t.tgisinternal
    UNION ALL
    SELECT 6, ic.relname::text, format('COMMENT ON INDEX %s IS %L', i.indexrelid::regclass, d.description)
    FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_description d ON d.objoid = i.indexrelid AND d.objsubid = 0
    WHERE i.indrelid = $1::oid
    UNION ALL
    SELECT 6, '', format('COMMENT ON TABLE %s IS %L', $1::oid::regclass, d.description)
    FROM pg_description d WHERE d.objoid = $1::oid AND d.classoid = 'pg_class'::regclass AND d.objsubid = 0
    UNION ALL
    SELECT 7, a.attname::text, format('ALTER TABLE %s ALTER COLUMN %I SET STATISTICS %s', $1::oid::regclass, a.attname, a.attstattarget)
    FROM pg_attribute a WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attstattarget >= 0
    UNION ALL
    SELECT 8, acl.privilege_type, format('GRANT %s ON %s TO %s%s', acl.privilege_type, $1::oid::regclass,
             CASE WHEN acl.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(acl.grantee)) END,
             CASE WHEN acl.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END)
    FROM pg_class c CROSS JOIN LATERAL aclexplode(c.relacl) acl
    WHERE c.oid = $1::oid AND acl.grantee <> c.relowner
  ) s
  ORDER BY step, name, stmt`;

/** Foreign keys of other tables into this one: dropped with the old table, added back on the new one. */
const INCOMING_SQL = `
  SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', con.conrelid::regclass, con.conname) AS drop,
         format('ALTER TABLE %s ADD CONSTRAINT %I %s', con.conrelid::regclass, con.conname, pg_get_constraintdef(con.oid)) AS add,
         con.conrelid::regclass::text AS referencing
  FROM pg_constraint con
  WHERE con.confrelid = $1::oid AND con.conrelid <> $1 AND con.contype = 'f' AND con.conparentid = 0
  ORDER BY con.conrelid::regclass::text, con.conname`;

/**
 * A partition's indexes named after the parent's (pull_events_p03_stored_idx for
 * pull_events_stored_idx) rather than PostgreSQL's column-derived names, where they fit in 63 bytes.
 */
const RENAME_PARTITION_INDEXES_SQL = `
  SELECT format('ALTER INDEX %s RENAME TO %I', h.inhrelid::regclass, wanted) AS stmt
  FROM pg_index i
  JOIN pg_class pi ON pi.oid = i.indexrelid
  JOIN pg_inherits h ON h.inhparent = i.indexrelid
  JOIN pg_index ci ON ci.indexrelid = h.inhrelid
  JOIN pg_class part ON part.oid = ci.indrelid
  JOIN pg_class cur ON cur.oid = h.inhrelid
  CROSS JOIN LATERAL (SELECT part.relname || substr(pi.relname, length($2) + 1) AS wanted) w
  WHERE i.indrelid = $1::oid AND starts_with(pi.relname, $2 || '_') AND octet_length(wanted) <= 63 AND cur.relname <> wanted
  ORDER BY 1`;

async function partitionCount(client: pg.Client, oid: number): Promise<number> {
  const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_inherits WHERE inhparent = $1', [oid]);
  return rows[0]!.n;
}

/**
 * Turns an existing, migrated pull_events into one `PARTITION BY HASH (pull_endpoint_id)` with
 * `partitions` partitions (pull_events_p00, ...), in one transaction: a new table with the same
 * columns and defaults, its partitions, the rows moved, the old table dropped, then its primary
 * key, indexes (partial ones with their predicate), check constraints, foreign keys in and out,
 * triggers, comments and grants re-created on the new one under the old names, its storage
 * parameters given to every partition, and statistics
 * gathered. Every query names its endpoint, so each touches one partition and none changes.
 *
 * The table is locked (ACCESS EXCLUSIVE) for the whole copy, and the tables its foreign keys
 * point at against writes (ingest's endpoint row update waits too): run it when that pause is
 * acceptable. A table partitioned already is left as it is (`moved` 0), whatever `partitions`
 * says. Migrations that come later apply to the partitioned table as to the plain one, except
 * CREATE INDEX CONCURRENTLY (not allowed on a partitioned table) and unique indexes or
 * constraints without pull_endpoint_id (a partitioned table's must include its key).
 */
export async function partitionPullEvents(databaseUrl: string, partitions = 16): Promise<PartitionOutcome> {
  const problem = partitionCountProblem(partitions);
  if (problem) throw new RangeError(`partitions ${problem}, not ${partitions}`);
  const client = new pg.Client({ connectionString: parseDatabaseUrl(databaseUrl).connectionString, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  await client.connect();
  try {
    await client.query('BEGIN');
    // Migrations' lock: partitioning and a replica's migrations run one after the other.
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    // Moving a big table outlasts a statement timeout set for the role (as behind PgBouncer).
    await client.query('SET LOCAL statement_timeout = 0');
    const outcome = await partitionInTransaction(client, partitions);
    await client.query('COMMIT');
    return outcome;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    await client.end();
  }
}

async function partitionInTransaction(client: pg.Client, partitions: number): Promise<PartitionOutcome> {
  const found = await client.query<{ oid: number | null }>(`SELECT to_regclass(${literal(TABLE)})::oid AS oid`);
  const oid = found.rows[0]?.oid;
  if (!oid) throw new Error(`there is no ${TABLE} table: migrate the database first`);

  // The advisory lock keeps other partitioners (and migrators) out, so a table found partitioned
  // stays so: that answer needs no lock on the tables, which a busy service would queue behind.
  const { rows: [table] } = await client.query<{ relkind: string; partkey: string | null }>(
    'SELECT relkind, pg_get_partkeydef(oid) AS partkey FROM pg_class WHERE oid = $1',
    [oid],
  );
  if (table?.relkind === 'p') {
    if (table.partkey !== `HASH (${PARTITION_KEY})`) throw new Error(`${TABLE} is partitioned by ${table.partkey}, not by HASH (${PARTITION_KEY})`);
    return { moved: 0, partitions: await partitionCount(client, oid), alreadyPartitioned: true };
  }
  if (table?.relkind !== 'r') throw new Error(`${TABLE} is not a table (relkind ${table?.relkind})`);

  // The tables our foreign keys point at are locked before ours, in the order the service's
  // statements take them (endpoint row, then events): a writer holding one while it waits for
  // pull_events would otherwise deadlock with the ADD FOREIGN KEY below.
  const { rows: targets } = await client.query<{ name: string }>(
    `SELECT DISTINCT confrelid::regclass::text AS name FROM pg_constraint
     WHERE conrelid = $1 AND confrelid <> $1 AND contype = 'f' ORDER BY 1`,
    [oid],
  );
  if (targets.length > 0) await client.query(`LOCK TABLE ${targets.map((t) => t.name).join(', ')} IN SHARE ROW EXCLUSIVE MODE`);
  await client.query(`LOCK TABLE ${ident(TABLE)} IN ACCESS EXCLUSIVE MODE`);
  const { rows: [locked] } = await client.query<{ oid: number | null }>(`SELECT to_regclass(${literal(TABLE)})::oid AS oid`);
  if (locked?.oid !== oid) throw new Error(`${TABLE} was replaced while partitioning began; nothing was changed, run it again`);

  const { rows: [unsupported] } = await client.query<{ reasons: string[] }>(UNSUPPORTED_SQL, [oid]);
  if (unsupported && unsupported.reasons.length > 0) {
    throw new Error(`${TABLE} has ${unsupported.reasons.join(', ')}, which partitioning would not carry over; nothing was changed`);
  }
  const recreate = (await client.query<{ stmt: string }>(RECREATE_SQL, [oid])).rows.map((row) => row.stmt);
  const incoming = (await client.query<{ drop: string; add: string; referencing: string }>(INCOMING_SQL, [oid])).rows;
  if (incoming.length > 0) {
    await client.query(`LOCK TABLE ${[...new Set(incoming.map((fk) => fk.referencing))].join(', ')} IN SHARE ROW EXCLUSIVE MODE`);
  }
  const { rows: [owner] } = await client.query<{ owner: string; mine: boolean }>(
    'SELECT pg_get_userbyid(relowner) AS owner, relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user) AS mine FROM pg_class WHERE oid = $1',
    [oid],
  );

  // Same columns, types, collations, defaults, NOT NULLs, storage and column comments.
  await client.query(
    `CREATE TABLE ${ident(STAGING)} (LIKE ${ident(TABLE)} INCLUDING DEFAULTS INCLUDING COMMENTS INCLUDING STORAGE INCLUDING COMPRESSION)
     PARTITION BY HASH (${ident(PARTITION_KEY)})`,
  );
  // A partitioned table has no storage of its own: its storage parameters (the fillfactor) go to
  // each partition, where the catalog gives them as `name=value`.
  const { rows: [storage] } = await client.query<{ options: string[] | null }>('SELECT reloptions AS options FROM pg_class WHERE oid = $1', [oid]);
  const withOptions = storage?.options ? ` WITH (${storage.options.join(', ')})` : '';
  const names = Array.from({ length: partitions }, (_, i) => partitionName(i, partitions));
  for (const [remainder, name] of names.entries()) {
    await client.query(`CREATE TABLE ${ident(name)} PARTITION OF ${ident(STAGING)} FOR VALUES WITH (MODULUS ${partitions}, REMAINDER ${remainder})${withOptions}`);
  }
  // Rows first, indexes after: building an index over loaded rows is faster than growing it row by row.
  const moved = await client.query(`INSERT INTO ${ident(STAGING)} SELECT * FROM ${ident(TABLE)}`);

  for (const fk of incoming) await client.query(fk.drop);
  await client.query(`DROP TABLE ${ident(TABLE)}`);
  await client.query(`ALTER TABLE ${ident(STAGING)} RENAME TO ${ident(TABLE)}`);
  for (const stmt of recreate) await client.query(stmt);
  for (const fk of incoming) await client.query(fk.add);
  const { rows: [renamed] } = await client.query<{ oid: number }>(`SELECT ${literal(TABLE)}::regclass::oid AS oid`);
  const renames = await client.query<{ stmt: string }>(RENAME_PARTITION_INDEXES_SQL, [renamed!.oid, TABLE]);
  for (const { stmt } of renames.rows) await client.query(stmt);
  if (owner && !owner.mine) {
    for (const name of [TABLE, ...names]) await client.query(`ALTER TABLE ${ident(name)} OWNER TO ${ident(owner.owner)}`);
  }
  // Autovacuum analyzes partitions but never a partitioned parent: plans that read the parent's
  // own statistics would otherwise wait for the next manual ANALYZE.
  await client.query(`ANALYZE ${ident(TABLE)}`);
  return { moved: moved.rowCount ?? 0, partitions, alreadyPartitioned: false };
}
