import { drizzle } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import * as schema from './schema/index.ts';
import type { Database, DatabaseHandle } from './types.ts';

/**
 * drizzle asks postgres.js not to prepare unnamed queries, and postgres.js then describes every
 * query with parameters before running it: two round trips per statement. Preparing them
 * instead (postgres.js caches each statement per connection by its text) makes it one. The
 * app's SQL has a bounded set of shapes, so the cache stays small. Transactions and savepoints
 * hand drizzle a new client, which is wrapped the same way.
 */
function preparing(client: postgres.Sql): postgres.Sql {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'unsafe') {
        return (query: string, params?: unknown[], options?: { prepare?: boolean }) =>
          target.unsafe(query, params as never, { ...options, prepare: true });
      }
      if (property === 'begin' || property === 'savepoint') {
        return (...args: unknown[]) => {
          const callback = args.at(-1) as (tx: postgres.Sql) => unknown;
          const method = Reflect.get(target, property, receiver) as (...a: unknown[]) => unknown;
          return method.apply(target, [...args.slice(0, -1), (tx: postgres.Sql) => callback(preparing(tx))]);
        };
      }
      return Reflect.get(target, property, receiver);
    },
  });
}

/** The production store: any PostgreSQL server through postgres.js (Node, or Workers + Hyperdrive). */
export function connectServer(
  url: string,
  options: { poolMax?: number; prepare?: boolean; connectTimeoutSeconds?: number; applicationName?: string } = {},
): DatabaseHandle & { sql: postgres.Sql } {
  const sql = postgres(url, {
    max: options.poolMax ?? 10,
    // postgres.js waits 30 s by default: a request would queue that long behind a database that is away.
    connect_timeout: options.connectTimeoutSeconds ?? 3,
    // Between attempts after a lost connection: postgres.js grows this to 20 s (3^n / 100 s), so a
    // database back after a ten-second outage went unused for seconds more. Requests do not queue
    // meanwhile (the app's breaker answers 503), so a short, bounded wait costs nothing: 0.1-1 s.
    backoff: (retries: number) => Math.min(0.1 * 2 ** Math.max(0, retries - 1), 1),
    onnotice: () => {},
    // jit off: the hub's statements are short, and PostgreSQL's JIT (on by default where LLVM is
    // installed) compiled each one whose estimated cost passed jit_above_cost. The bench's statement
    // log caught the outbox insert of every payment spending 235 ms of CPU in JIT emission once
    // the obligations table had grown (an estimate of 482 lines per dossier made its cost 139,799):
    // VNPay IPNs fell from ~320 to ~40 a second. Nothing the hub runs takes long enough to gain.
    connection: { application_name: options.applicationName ?? 'fee-payment-hub', TimeZone: 'UTC', jit: 'off' },
  });
  const client = options.prepare === false ? sql : preparing(sql);
  const db = drizzle({ client, schema, casing: 'snake_case' }) as unknown as Database;
  return { db, sql, kind: 'server', close: () => sql.end({ timeout: 5 }) };
}

/**
 * The primary and, when `readUrl` names one, the replica reports read (DATABASE_READ_URL), as one
 * handle that closes both. The replica's sessions are named apart, so its pg_stat_activity shows
 * whose they are; postgres.js connects at the first query, so an unused replica opens nothing.
 */
export function connectServers(
  url: string,
  readUrl: string | undefined,
  options: { poolMax?: number; prepare?: boolean; connectTimeoutSeconds?: number } = {},
): DatabaseHandle {
  const primary = connectServer(url, options);
  if (!readUrl) return primary;
  const replica = connectServer(readUrl, { ...options, applicationName: 'fee-payment-hub-reports' });
  return { ...primary, replica: replica.db, close: () => Promise.all([primary.close(), replica.close()]).then(() => undefined) };
}
