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
