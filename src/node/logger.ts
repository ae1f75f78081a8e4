import { type Logger as Pino, pino } from 'pino';
import type { LogFields, Logger, LogLevel } from '../logger.ts';

/**
 * Fields that would carry personal data if a caller ever passed them whole: callers are not
 * supposed to (src/logger.ts), and pino blanks them if one does.
 */
const PERSONAL = [
  'payer',
  'applicant',
  'applicantName',
  'applicantAddress',
  'payerName',
  'payerAddress',
  'idNumber',
  'authorization',
  'token',
];

/**
 * Node's logger: pino, writing JSON lines to standard output (synchronously, so the line before a
 * `process.exit` is not lost), or to `destination` (the tests capture lines with one).
 */
export function createNodeLogger(level: LogLevel = 'info', destination?: { write(line: string): void }): Logger {
  const logger = pino(
    {
      level,
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: [...PERSONAL, ...PERSONAL.map((field) => `*.${field}`)], censor: '[redacted]' },
    },
    destination ?? pino.destination({ dest: 1, sync: true }),
  );
  return adapt(logger);
}

/** The house interface over pino's (the message first, as every call site writes it). */
function adapt(logger: Pino): Logger {
  const at = (level: 'debug' | 'info' | 'warn' | 'error') => (msg: string, fields?: LogFields) => {
    if (fields) logger[level](fields, msg);
    else logger[level](msg);
  };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (bindings) => adapt(logger.child(bindings)),
  };
}
