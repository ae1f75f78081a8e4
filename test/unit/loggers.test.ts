import { describe, expect, it } from 'vitest';
import { createConsoleLogger, type Logger } from '../../src/logger.ts';
import { createNodeLogger } from '../../src/node/logger.ts';

/** Node's pino and Workers' console logger write the same lines through the same interface. */
const loggers: Array<[string, (level: 'debug' | 'info', write: (line: string) => void) => Logger]> = [
  ['pino (Node)', (level, write) => createNodeLogger(level, { write })],
  ['console (Workers)', (level, write) => createConsoleLogger(level, write)],
];

describe.each(loggers)('the %s logger', (_name, make) => {
  it("writes one JSON line per call: level, ISO time, message, the child's bindings and the fields", () => {
    const lines: Array<Record<string, unknown>> = [];
    const log = make('info', (line) => lines.push(JSON.parse(line)));
    log.debug('not at info');
    log.info('plain');
    log.child({ requestId: 'req-1' }).child({ job: 'poll' }).warn('with fields', { intentId: 'i-1', count: 2 });
    log.error('after the child', { error: 'boom' });
    expect(lines).toEqual([
      { level: 'info', time: expect.any(String), msg: 'plain' },
      { level: 'warn', time: expect.any(String), msg: 'with fields', requestId: 'req-1', job: 'poll', intentId: 'i-1', count: 2 },
      { level: 'error', time: expect.any(String), msg: 'after the child', error: 'boom' },
    ]);
    for (const line of lines) expect(new Date(line.time as string).toISOString()).toBe(line.time);
  });
});

describe('the pino logger', () => {
  it('blanks personal fields a caller should not have passed', () => {
    const lines: string[] = [];
    const log = createNodeLogger('info', { write: (line) => lines.push(line) });
    log.info('careless', {
      payer: { name: 'Nguyễn Văn An', idNumber: '079203001234' },
      intent: { applicantAddress: '12 Lê Lợi' },
      intentId: 'i-2',
    });
    expect(lines.join('')).not.toMatch(/Nguyễn|079203001234|Lê Lợi/);
    expect(JSON.parse(lines[0]!)).toMatchObject({ payer: '[redacted]', intent: { applicantAddress: '[redacted]' }, intentId: 'i-2' });
  });
});
