/** PostgreSQL error fields, whether the driver or drizzle (which wraps them in `cause`) threw. */
export function pgError(error: unknown): { code?: string; message?: string; constraint?: string } {
  let e = error as { code?: unknown; message?: unknown; constraint?: unknown; constraint_name?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; e && depth < 4; depth++) {
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code)) {
      return {
        code: e.code,
        message: typeof e.message === 'string' ? e.message : undefined,
        constraint: typeof e.constraint === 'string' ? e.constraint : typeof e.constraint_name === 'string' ? e.constraint_name : undefined,
      };
    }
    e = e.cause as typeof e;
  }
  return {};
}

/**
 * An error as a log line may show it. A failed query's own message lists its parameters (names,
 * addresses), so for database errors only PostgreSQL's code and message are kept.
 */
export function describeError(error: unknown): string {
  const pg = pgError(error);
  if (pg.code) return `database error ${pg.code}: ${pg.message ?? ''}`;
  if (error instanceof Error) {
    // drizzle's wrapper without a database cause still starts with the query text.
    return error.message.startsWith('Failed query:') ? `${error.name}: failed query` : `${error.name}: ${error.message}`;
  }
  return String(error);
}

/**
 * postgres.js's own codes for a connection that could not be made or was lost, and the system
 * errors under them; PostgreSQL's class 08 (connection exception) and 57P01-57P03 (the server
 * shutting down, or not yet accepting connections), and 25006 (a write sent to a server that is a
 * standby: behind a multi-host DATABASE_URL, the primary is lost and its standby not yet
 * promoted). Any of these means: the database is away, not that the request is wrong.
 */
const CONNECTION_CODES = new Set([
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  '57P01',
  '57P02',
  '57P03',
  '25006',
]);

/** Whether an error (or one of its causes) says the database connection failed. */
export function isConnectionError(error: unknown): boolean {
  let e = error as { code?: unknown; cause?: unknown; errors?: unknown } | undefined;
  for (let depth = 0; e && depth < 5; depth++) {
    if (typeof e.code === 'string' && (CONNECTION_CODES.has(e.code) || /^08[0-9A-Z]{3}$/.test(e.code))) return true;
    // Node's AggregateError for a host with several addresses (IPv4 and IPv6 both refused).
    if (Array.isArray(e.errors) && e.errors.some((inner) => isConnectionError(inner))) return true;
    e = e.cause as typeof e;
  }
  return false;
}
