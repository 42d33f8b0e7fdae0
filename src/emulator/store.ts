// All emulator state in one SQLite database (a file when dbPath is given, else in memory).
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { JOB_ITEM_COUNTER_WIRE_NAMES, type JobItemCounterWireName } from '../datature-api/status-rules';

/** Stored as on the wire (PascalCase): the eight counters of status-rules.ts. */
export const COUNTER_NAMES = JOB_ITEM_COUNTER_WIRE_NAMES;
export type CounterName = JobItemCounterWireName;
export type Counters = Record<CounterName, number>;
export const zeroCounters = (): Counters => Object.fromEntries(COUNTER_NAMES.map((name) => [name, 0])) as Counters;

export interface WebhookRow {
  id: string;
  project_id: string;
  name: string;
  endpoint: string;
  secret: string;
  max_retries: number;
  max_backoff_ms: number;
  create_date: number;
  update_date: number;
}

export interface DatasetRow {
  id: string;
  project_id: string;
  name: string;
  size_bytes: number;
  crc32c: string;
  overview: string;
  message: string;
  status_time: number;
  item_count: number;
  upload_expires: number;
  expiry_time: number;
  create_date: number;
  update_date: number;
}

/**
 * Internal job states, stored in `jobs.overview` (the values existing database files hold). `Running`
 * (items flow) is never sent as is: the wire shows `runningJobOverview` instead (see wire.ts).
 */
export const JOB_WAITING = 'Waiting';
export const JOB_RUNNING = 'Running';
export const JOB_REACHED = 'Reached';
export const JOB_FAILED = 'Failed';
/** States of a job that has not ended: it may be changed (cancel) and holds on to its dataset. */
export const ACTIVE_JOB_STATES: readonly string[] = [JOB_WAITING, JOB_RUNNING];
const ACTIVE_JOB_STATES_SQL = ACTIVE_JOB_STATES.map((state) => `'${state}'`).join(', ');

export interface JobRow {
  id: string;
  project_id: string;
  name: string;
  dataset_id: string;
  deployment: string;
  destinations: string;
  start_at: number;
  stop_at: number;
  /** Internal state: one of JOB_WAITING, JOB_RUNNING, JOB_REACHED, JOB_FAILED. */
  overview: string;
  message: string;
  reason: string | null;
  cancelled_at: number | null;
  status_date: number;
  cursor: number;
  create_date: number;
  update_date: number;
  counters: string;
}

export interface LogRow {
  id: string;
  job_id: string;
  seq: number;
  item_index: number;
  create_time: number;
  level: string;
  item: string;
  status: string;
  time_ms: number;
  reason: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS webhooks (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, project_id TEXT NOT NULL, name TEXT NOT NULL,
  endpoint TEXT NOT NULL, secret TEXT NOT NULL, max_retries INTEGER NOT NULL, max_backoff_ms INTEGER NOT NULL,
  create_date INTEGER NOT NULL, update_date INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS datasets (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, project_id TEXT NOT NULL, name TEXT NOT NULL,
  size_bytes INTEGER NOT NULL, crc32c TEXT NOT NULL, overview TEXT NOT NULL, message TEXT NOT NULL,
  status_time INTEGER NOT NULL, item_count INTEGER NOT NULL, upload_expires INTEGER NOT NULL,
  expiry_time INTEGER NOT NULL, create_date INTEGER NOT NULL, update_date INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS dataset_items (
  dataset_id TEXT NOT NULL, idx INTEGER NOT NULL, kind TEXT NOT NULL, url TEXT NOT NULL,
  PRIMARY KEY (dataset_id, idx)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, project_id TEXT NOT NULL, name TEXT NOT NULL,
  dataset_id TEXT NOT NULL, deployment TEXT NOT NULL, destinations TEXT NOT NULL, start_at INTEGER NOT NULL,
  stop_at INTEGER NOT NULL, overview TEXT NOT NULL, message TEXT NOT NULL, reason TEXT, cancelled_at INTEGER,
  status_date INTEGER NOT NULL, cursor INTEGER NOT NULL DEFAULT 0, counters TEXT NOT NULL,
  create_date INTEGER NOT NULL, update_date INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS job_logs (
  job_id TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, item_index INTEGER NOT NULL,
  create_time INTEGER NOT NULL, level TEXT NOT NULL, item TEXT NOT NULL, status TEXT NOT NULL,
  time_ms REAL NOT NULL, reason TEXT NOT NULL, PRIMARY KEY (job_id, seq)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS job_logs_time ON job_logs (job_id, create_time);
`;

export type Table = 'webhooks' | 'datasets' | 'jobs';

export interface PageQuery {
  projectId: string;
  limit: number;
  /** Rows strictly after this seq (next page) or strictly before it (previous page). */
  afterSeq?: number;
  beforeSeq?: number;
}

interface LogQuery {
  jobId: string;
  beforeTime?: number;
  /** Emulator extension: only entries after this one in the newest-first order (same millisecond or older). */
  before?: { createTime: number; seq: number };
  afterTime?: number;
  levels: string[];
  limit: number;
}

const INCREMENTAL_VACUUM = 2;
const WAL_SIZE_LIMIT_BYTES = 64 * 1024 * 1024;
const RECLAIM_MIN_BYTES = 4 * 1024 * 1024;

export class Store {
  readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly path: string | undefined) {
    this.db = new Database(path ?? ':memory:');
    if (path) {
      // Deleted datasets and jobs give their pages back (see reclaim). A file made before this setting
      // needs one VACUUM to take it; a new one takes it before its first table.
      if (this.db.pragma('auto_vacuum', { simple: true }) !== INCREMENTAL_VACUUM) {
        this.db.pragma('auto_vacuum = INCREMENTAL');
        this.db.exec('VACUUM');
      }
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = NORMAL');
      // A checkpoint leaves the WAL file at its largest size (a 1 GB upload left a 1 GB WAL); cap what it keeps.
      this.db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT_BYTES}`);
    }
    this.db.exec(SCHEMA);
  }

  /**
   * After a delete: returns the free pages to the file system (incremental vacuum) and empties the WAL
   * into the database (checkpoint, WAL truncated), so deleting a large dataset or job shrinks the files.
   * Skipped while less than RECLAIM_MIN_BYTES is free: small deletes are not worth a checkpoint each.
   */
  reclaim(): void {
    if (!this.path) return;
    const freePages = this.db.pragma('freelist_count', { simple: true }) as number;
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    if (freePages * pageSize < RECLAIM_MIN_BYTES) return;
    this.db.pragma('incremental_vacuum');
    this.db.pragma('wal_checkpoint(TRUNCATE)');
  }

  /** Prepared once per SQL text: preparing costs more than running these small statements. */
  private sql(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  close(): void {
    this.db.close();
  }

  /** A random secret kept in the database, so signed upload URLs survive a restart. */
  uploadSigningKey(): string {
    const row = this.sql('SELECT value FROM meta WHERE key = ?').get('upload_key') as { value: string } | undefined;
    if (row) return row.value;
    const key = randomBytes(32).toString('hex');
    this.sql('INSERT INTO meta (key, value) VALUES (?, ?)').run('upload_key', key);
    return key;
  }

  transaction<T>(work: () => T): T {
    return this.db.transaction(work)();
  }

  page<T>(table: Table, query: PageQuery): { rows: (T & { seq: number })[]; hasBefore: boolean; hasAfter: boolean } {
    const { projectId, limit } = query;
    let rows: (T & { seq: number })[];
    if (query.beforeSeq !== undefined) {
      rows = this.db
        .prepare(`SELECT * FROM ${table} WHERE project_id = ? AND seq < ? ORDER BY seq DESC LIMIT ?`)
        .all(projectId, query.beforeSeq, limit)
        .reverse() as (T & { seq: number })[];
    } else {
      rows = this.db
        .prepare(`SELECT * FROM ${table} WHERE project_id = ? AND seq > ? ORDER BY seq ASC LIMIT ?`)
        .all(projectId, query.afterSeq ?? 0, limit) as (T & { seq: number })[];
    }
    if (rows.length === 0) return { rows, hasBefore: false, hasAfter: false };
    const exists = (op: '<' | '>', seq: number) =>
      this.sql(`SELECT 1 FROM ${table} WHERE project_id = ? AND seq ${op} ? LIMIT 1`).get(projectId, seq) !== undefined;
    return { rows, hasBefore: exists('<', rows[0].seq), hasAfter: exists('>', rows[rows.length - 1].seq) };
  }

  get<T>(table: Table, projectId: string, id: string): T | undefined {
    return this.sql(`SELECT * FROM ${table} WHERE project_id = ? AND id = ?`).get(projectId, id) as T | undefined;
  }

  insertWebhook(row: WebhookRow): void {
    this.db
      .prepare(
        `INSERT INTO webhooks (id, project_id, name, endpoint, secret, max_retries, max_backoff_ms, create_date, update_date)
         VALUES (@id, @project_id, @name, @endpoint, @secret, @max_retries, @max_backoff_ms, @create_date, @update_date)`,
      )
      .run(row);
  }

  updateWebhook(row: WebhookRow): void {
    this.db
      .prepare(
        `UPDATE webhooks SET endpoint = @endpoint, secret = @secret, max_retries = @max_retries,
         max_backoff_ms = @max_backoff_ms, update_date = @update_date WHERE id = @id`,
      )
      .run(row);
  }

  webhookById(id: string): WebhookRow | undefined {
    return this.sql('SELECT * FROM webhooks WHERE id = ?').get(id) as WebhookRow | undefined;
  }

  deleteRow(table: Table, id: string): void {
    this.sql(`DELETE FROM ${table} WHERE id = ?`).run(id);
  }

  insertDataset(row: DatasetRow): void {
    this.db
      .prepare(
        `INSERT INTO datasets (id, project_id, name, size_bytes, crc32c, overview, message, status_time, item_count,
         upload_expires, expiry_time, create_date, update_date) VALUES (@id, @project_id, @name, @size_bytes, @crc32c,
         @overview, @message, @status_time, @item_count, @upload_expires, @expiry_time, @create_date, @update_date)`,
      )
      .run(row);
  }

  datasetById(id: string): DatasetRow | undefined {
    return this.sql('SELECT * FROM datasets WHERE id = ?').get(id) as DatasetRow | undefined;
  }

  setDatasetStatus(id: string, overview: string, message: string, now: number, itemCount?: number): void {
    this.db
      .prepare(
        `UPDATE datasets SET overview = ?, message = ?, status_time = ?, update_date = ?,
         item_count = COALESCE(?, item_count) WHERE id = ?`,
      )
      .run(overview, message, now, now, itemCount ?? null, id);
  }

  datasetsInState(overview: string): DatasetRow[] {
    return this.sql('SELECT * FROM datasets WHERE overview = ?').all(overview) as DatasetRow[];
  }

  insertDatasetItems(datasetId: string, firstIndex: number, items: { kind: string; url: string }[]): void {
    const insert = this.sql('INSERT INTO dataset_items (dataset_id, idx, kind, url) VALUES (?, ?, ?, ?)');
    this.transaction(() => {
      for (const [offset, item] of items.entries()) insert.run(datasetId, firstIndex + offset, item.kind, item.url);
    });
  }

  deleteDatasetItems(datasetId: string): void {
    this.sql('DELETE FROM dataset_items WHERE dataset_id = ?').run(datasetId);
  }

  datasetItem(datasetId: string, idx: number): { idx: number; kind: string; url: string } | undefined {
    return this.db
      .prepare('SELECT idx, kind, url FROM dataset_items WHERE dataset_id = ? AND idx = ?')
      .get(datasetId, idx) as { idx: number; kind: string; url: string } | undefined;
  }

  insertJob(row: JobRow): void {
    this.db
      .prepare(
        `INSERT INTO jobs (id, project_id, name, dataset_id, deployment, destinations, start_at, stop_at, overview,
         message, reason, cancelled_at, status_date, cursor, counters, create_date, update_date) VALUES (@id,
         @project_id, @name, @dataset_id, @deployment, @destinations, @start_at, @stop_at, @overview, @message,
         @reason, @cancelled_at, @status_date, @cursor, @counters, @create_date, @update_date)`,
      )
      .run(row);
  }

  jobById(id: string): JobRow | undefined {
    return this.sql('SELECT * FROM jobs WHERE id = ?').get(id) as JobRow | undefined;
  }

  updateJob(id: string, fields: Partial<Omit<JobRow, 'id'>>): void {
    const names = Object.keys(fields);
    if (names.length === 0) return;
    this.sql(`UPDATE jobs SET ${names.map((name) => `${name} = @${name}`).join(', ')} WHERE id = @id`).run({
      ...fields,
      id,
    });
  }

  jobsInStates(overviews: readonly string[]): JobRow[] {
    return this.db
      .prepare(`SELECT * FROM jobs WHERE overview IN (${overviews.map(() => '?').join(', ')}) ORDER BY seq`)
      .all(...overviews) as JobRow[];
  }

  activeJobsOnDataset(datasetId: string): number {
    const row = this.db
      .prepare(`SELECT COUNT(*) AS n FROM jobs WHERE dataset_id = ? AND overview IN (${ACTIVE_JOB_STATES_SQL})`)
      .get(datasetId) as { n: number };
    return row.n;
  }

  insertLogs(rows: LogRow[]): void {
    const insert = this.sql(
      `INSERT INTO job_logs (job_id, seq, id, item_index, create_time, level, item, status, time_ms, reason)
       VALUES (@job_id, @seq, @id, @item_index, @create_time, @level, @item, @status, @time_ms, @reason)`,
    );
    for (const row of rows) insert.run(row);
  }

  lastLog(jobId: string): { seq: number; create_time: number } | undefined {
    return this.db
      .prepare('SELECT seq, create_time FROM job_logs WHERE job_id = ? ORDER BY seq DESC LIMIT 1')
      .get(jobId) as { seq: number; create_time: number } | undefined;
  }

  loggedItemIndexes(jobId: string, belowIndex: number): Set<number> {
    const rows = this.db
      .prepare('SELECT item_index FROM job_logs WHERE job_id = ? AND item_index < ?')
      .raw()
      .all(jobId, belowIndex) as number[][];
    return new Set(rows.map((row) => row[0]));
  }

  logs(query: LogQuery): LogRow[] {
    const clauses = ['job_id = ?'];
    const params: unknown[] = [query.jobId];
    if (query.beforeTime !== undefined) {
      clauses.push('create_time < ?');
      params.push(query.beforeTime);
    }
    if (query.before) {
      clauses.push('(create_time < ? OR (create_time = ? AND seq < ?))');
      params.push(query.before.createTime, query.before.createTime, query.before.seq);
    }
    if (query.afterTime !== undefined) {
      clauses.push('create_time > ?');
      params.push(query.afterTime);
    }
    clauses.push(`level IN (${query.levels.map(() => '?').join(', ')})`);
    params.push(...query.levels);
    return this.db
      .prepare(`SELECT * FROM job_logs WHERE ${clauses.join(' AND ')} ORDER BY create_time DESC, seq DESC LIMIT ?`)
      .all(...params, query.limit) as LogRow[];
  }

  /** Where entry `id` of the job sits in the logs order (searched newest first from `beforeTime`). */
  logPosition(
    jobId: string,
    id: string,
    beforeTime = Number.MAX_SAFE_INTEGER,
  ): { createTime: number; seq: number } | undefined {
    const row = this.sql(
      'SELECT create_time, seq FROM job_logs WHERE job_id = ? AND create_time < ? AND id = ? ORDER BY create_time DESC LIMIT 1',
    ).get(jobId, beforeTime, id) as { create_time: number; seq: number } | undefined;
    return row && { createTime: row.create_time, seq: row.seq };
  }

  deleteJobLogs(jobId: string): void {
    this.sql('DELETE FROM job_logs WHERE job_id = ?').run(jobId);
  }

  counts(): Record<string, number> {
    const count = (sql: string) => (this.sql(sql).get() as { n: number }).n;
    return {
      webhooks: count('SELECT COUNT(*) AS n FROM webhooks'),
      datasets: count('SELECT COUNT(*) AS n FROM datasets'),
      jobs: count('SELECT COUNT(*) AS n FROM jobs'),
      activeJobs: count(`SELECT COUNT(*) AS n FROM jobs WHERE overview IN (${ACTIVE_JOB_STATES_SQL})`),
      logEntries: count('SELECT COUNT(*) AS n FROM job_logs'),
    };
  }
}
