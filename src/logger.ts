/**
 * Structured logs: one JSON line per request, per job run that did something, and per warning.
 * Callers pass only fields that are safe to keep; personal data (identity numbers, names,
 * addresses) is never given to the logger.
 *
 * This is the interface the code logs through. Two loggers implement it: on Node, pino
 * (src/node/logger.ts: the entry points and the tests build it); on Workers, which have no file
 * descriptors for pino to write to, `createConsoleLogger` below (src/worker.ts). Both write the
 * same line: `{"level":"info","time":"…","msg":"…",…bindings,…fields}`.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose every line also carries `bindings` (a request's id, a job's name). */
  child(bindings: LogFields): Logger;
}

const order: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** Workers' logger: JSON lines through `console.log`, which the Workers runtime collects. */
export function createConsoleLogger(
  level: LogLevel = 'info',
  write: (line: string) => void = (l) => console.log(l),
  bindings: LogFields = {},
): Logger {
  const emit = (lvl: Exclude<LogLevel, 'silent'>, msg: string, fields?: LogFields) => {
    if (order[lvl] < order[level]) return;
    write(JSON.stringify({ level: lvl, time: new Date().toISOString(), msg, ...bindings, ...fields }));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (more) => createConsoleLogger(level, write, { ...bindings, ...more }),
  };
}
