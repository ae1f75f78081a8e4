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
