/**
 * CPU time from /proc: what a run cost the service process and the PostgreSQL server (the
 * postmaster and every process it forked: backends, WAL writer, checkpointer, autovacuum), read
 * before and after the run and divided by the requests it answered.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import type { Pool } from 'pg';

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** utime + stime of a process in ms, or 0 once it is gone. */
function cpuMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

function parentOf(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** Child processes of `pid` (Linux), as listed under /proc/<pid>/task/<tid>/children. */
export function childrenOf(pid: number): number[] {
  try {
    return fs
      .readdirSync(`/proc/${pid}/task`)
      .flatMap((tid) => fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(/\s+/))
      .filter((value) => value !== '')
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * The PostgreSQL server behind `pool`, when it runs on this machine: its postmaster is the parent
 * of the backend serving our connection. Null when /proc cannot see it (a remote server).
 */
export async function findPostmaster(pool: Pool): Promise<number | null> {
  const { rows } = await pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  try {
    const postmaster = parentOf(rows[0]!.pid);
    return fs.readFileSync(`/proc/${postmaster}/comm`, 'utf8').trim() === 'postgres' ? postmaster : null;
  } catch {
    return null;
  }
}

/** The processes each run is charged to: servers by base URL (bench/setup.ts registers them), and PostgreSQL. */
const servers = new Map<string, number>();
let postmasterPid: number | null = null;

export function registerServer(baseUrl: string, pid: number): void {
  servers.set(baseUrl, pid);
}

/** Charges PostgreSQL's CPU from now on to the postmaster behind `pool` (see findPostmaster). */
export async function watchPostgres(pool: Pool): Promise<number | null> {
  postmasterPid = await findPostmaster(pool);
  return postmasterPid;
}

/** Starts a reading for a run against the server at `baseUrl` (none: a database floor). */
export function startRunCpu(baseUrl: string | undefined): (requests: number) => CpuCost {
  return startCpu(baseUrl === undefined ? null : (servers.get(baseUrl) ?? null), postmasterPid);
}

export interface CpuCost {
  /** CPU ms per answered request of the process serving HTTP (null when nothing served it: the database floor). */
  serviceMs: number | null;
  /** CPU ms per answered request of every PostgreSQL process (null when the server is not local). */
  postgresMs: number | null;
}

interface Snapshot {
  service: number;
  postgres: Map<number, number>;
}

/**
 * Starts a reading: the function returned, called with the requests answered since, gives each
 * side's CPU ms per request. PostgreSQL processes that start during the run count from zero;
 * those that end during it are lost (the bench's pools keep their connections open).
 */
function startCpu(servicePid: number | null, postmaster: number | null): (requests: number) => CpuCost {
  const snapshot = (): Snapshot => {
    const postgres = new Map<number, number>();
    if (postmaster !== null) for (const pid of [postmaster, ...childrenOf(postmaster)]) postgres.set(pid, cpuMs(pid));
    return { service: servicePid === null ? 0 : cpuMs(servicePid), postgres };
  };
  const before = snapshot();
  return (requests) => {
    const after = snapshot();
    let postgres = 0;
    for (const [pid, ms] of after.postgres) postgres += ms - (before.postgres.get(pid) ?? 0);
    const per = (ms: number) => Math.round((ms / Math.max(1, requests)) * 1000) / 1000;
    return {
      serviceMs: servicePid === null ? null : per(after.service - before.service),
      postgresMs: postmaster === null ? null : per(postgres),
    };
  };
}
