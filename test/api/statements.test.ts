import { and, eq, sql } from 'drizzle-orm';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditLog, reconciliations, statementLines, statements } from '../../src/db/schema/index.ts';
import { queryRows } from '../../src/db/types.ts';
import { runJobs } from '../../src/jobs/index.ts';
import { importStatement, LINE_BATCH } from '../../src/services/statements.ts';
import { databaseLabel, onServer } from '../helpers/database.ts';
import { AGENCIES, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, mintToken } from '../helpers/harness.ts';
import { expectJson, expectProblem } from '../helpers/problems.ts';
import { ACCOUNTS, giveAccounts, multipart, statementCounts, statementFixture, uploadStatement } from '../helpers/statements.ts';

let h: Harness;
let treasury: string;
const BANK_A = `bank:${ACCOUNTS.communeA}`;
let dayCounter = 0;
/** A business date no other test uses (each test owns its source+day). */
const freshDate = () => {
  dayCounter += 1;
  const d = new Date(Date.UTC(2026, 0, 1 + dayCounter));
  return d.toISOString().slice(0, 10);
};

beforeAll(async () => {
  h = await createHarness();
  await seedAgencyTree(h.ctx);
  await giveAccounts(h.ctx);
  treasury = await mintToken({ role: 'treasury', agencies: [AGENCIES.communeA], subject: 'thu-quy-lan' });
});
afterAll(() => h?.close());

const bankFile = async () => ({ name: 'saoke-vcb.csv', bytes: await statementFixture('bank-vcb.csv') });

describe(`POST /v1/statements (${databaseLabel})`, () => {
  it("imports a bank's statement: every line numbered, bad ones kept with their reasons, totals of the good ones", async () => {
    const date = freshDate();
    const answer = await expectJson(await uploadStatement(h, treasury, { source: BANK_A, date }, await bankFile()), 201);
    expect(answer).toMatchObject({
      source: BANK_A,
      date,
      status: 'current',
      repeat: false,
      linesTotal: 7,
      linesImported: 5,
      linesRejected: 2,
      creditTotal: 135_000 + 50_000 + 135_000 + 1_000_000,
      debitTotal: 22_000,
      rejectedLink: `/v1/statements/${answer.id}/lines?rejected=true`,
    });
    expect(answer.rejected.map((r: { line: number }) => r.line)).toEqual([11, 13]);
    expect(answer.rejected[0].reason).toMatch(/both debit and credit/);
    expect(answer.replaced).toBeUndefined();

    const lines = await h.db.db
      .select()
      .from(statementLines)
      .where(eq(statementLines.statementId, answer.id))
      .orderBy(statementLines.lineNo);
    expect(lines.map((l) => l.lineNo)).toEqual([7, 8, 9, 10, 11, 12, 13]);
    expect(lines[0]).toMatchObject({
      transactionId: 'FT26337000101',
      amount: 135_000,
      direction: 'credit',
      text: 'MBVCB.123 HP7K2M9Q NOP LE PHI',
      error: null,
    });

    const rejected = await expectJson(await h.request('GET', answer.rejectedLink, { token: treasury }), 200);
    expect(rejected.items.map((l: { line: number }) => l.line)).toEqual([11, 13]);
    const statement = await expectJson(await h.request('GET', `/v1/statements/${answer.id}`, { token: treasury }), 200);
    expect(statement).toMatchObject({
      id: answer.id,
      agencyCode: AGENCIES.communeA,
      format: 'bank',
      fileName: 'saoke-vcb.csv',
      uploadedBy: 'treasury:thu-quy-lan',
      status: 'current',
    });

    const [audit] = await h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.resourceType, 'statement'), eq(auditLog.resourceId, answer.id)));
    expect(audit).toMatchObject({ action: 'statement.import', actor: 'treasury:thu-quy-lan', agencyCode: AGENCIES.communeA });
    expect(audit!.after).toMatchObject({ contentHash: answer.contentHash, linesRejected: 2 });
  });

  it('the same file again changes nothing and names the earlier statement; a corrected file replaces it, which is kept', async () => {
    const date = freshDate();
    const first = await expectJson(await uploadStatement(h, treasury, { source: BANK_A, date }, await bankFile()), 201);
    const before = await statementCounts(h);
    const repeat = await expectJson(
      await uploadStatement(h, treasury, { source: BANK_A, date }, { ...(await bankFile()), name: 'again.csv' }),
      200,
    );
    expect(repeat).toMatchObject({ id: first.id, repeat: true, status: 'current', linesRejected: 2, contentHash: first.contentHash });
    expect(repeat.rejected).toEqual(first.rejected);
    expect(await statementCounts(h)).toEqual(before);

    const corrected = new TextEncoder().encode(
      'Ngày giao dịch,Số tham chiếu,Ghi nợ,Ghi có,Nội dung\n03/12/2026 08:01:12,FT26337000101,,135.000,HP7K2M9Q NOP LE PHI\n',
    );
    const second = await expectJson(
      await uploadStatement(h, treasury, { source: BANK_A, date }, { name: 'corrected.csv', bytes: corrected }),
      201,
    );
    expect(second).toMatchObject({ repeat: false, status: 'current', replaced: first.id, linesTotal: 1, creditTotal: 135_000 });
    const [earlier] = await h.db.db.select().from(statements).where(eq(statements.id, first.id));
    expect(earlier).toMatchObject({ status: 'superseded', supersededBy: second.id, linesTotal: 7 });
    expect(await h.db.db.select().from(statementLines).where(eq(statementLines.statementId, first.id))).toHaveLength(7);
    const [audit] = await h.db.db
      .select()
      .from(auditLog)
      .where(and(eq(auditLog.resourceType, 'statement'), eq(auditLog.resourceId, second.id)));
    expect(audit).toMatchObject({ action: 'statement.replace', before: { statementId: first.id, status: 'current' } });

    const list = await expectJson(await h.request('GET', `/v1/statements?source=${BANK_A}&date=${date}`, { token: treasury }), 200);
    expect(list.items.map((s: { id: string; status: string }) => [s.id, s.status])).toEqual([
      [second.id, 'current'],
      [first.id, 'superseded'],
    ]);
  });

  it('refuses any statement for a closed day (409), writing nothing', async () => {
    const date = freshDate();
    await h.db.db.insert(reconciliations).values({
      id: crypto.randomUUID(),
      source: BANK_A,
      businessDate: date,
      agencyCode: AGENCIES.communeA,
      status: 'closed',
      closedBy: 'treasury:x',
      closedAt: new Date(),
    });
    const before = await statementCounts(h);
    const problem = await expectProblem(await uploadStatement(h, treasury, { source: BANK_A, date }, await bankFile()), 409, 'day-closed');
    expect(problem).toMatchObject({ source: BANK_A, date });
    expect(await statementCounts(h)).toEqual(before);
  });

  it('a day that closes while the file streams in: the import is refused at its end and leaves nothing', async () => {
    const date = freshDate();
    const before = await statementCounts(h);
    const encoder = new TextEncoder();
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent === 0) controller.enqueue(encoder.encode('Ngày giao dịch,Số tham chiếu,Ghi nợ,Ghi có,Nội dung\n'));
        else if (sent <= 3) controller.enqueue(encoder.encode(`03/12/2026 08:0${sent}:00,FT${sent},,135000,HP${sent}\n`));
        else {
          await h.db.db
            .insert(reconciliations)
            .values({ id: crypto.randomUUID(), source: BANK_A, businessDate: date, agencyCode: AGENCIES.communeA, status: 'closed' });
          controller.close();
        }
        sent += 1;
      },
    });
    const principal = { subject: 'thu-quy-lan', role: 'treasury' as const, agencies: [AGENCIES.communeA] };
    await expect(importStatement(h.ctx, principal, { source: BANK_A, date, body, format: 'csv' })).rejects.toMatchObject({
      code: 'day-closed',
    });
    expect(await statementCounts(h)).toEqual(before);
  });

  it('replays an Idempotency-Key with the same file, and refuses it with another', async () => {
    const date = freshDate();
    const key = `stmt-key-${date}`;
    const first = await expectJson(await uploadStatement(h, treasury, { source: BANK_A, date }, await bankFile(), key), 201);
    const replay = await expectJson(await uploadStatement(h, treasury, { source: BANK_A, date }, await bankFile(), key), 201);
    expect(replay).toEqual(first);
    const other = new TextEncoder().encode('Ngày giao dịch,Số tham chiếu,Ghi nợ,Ghi có,Nội dung\n03/12/2026,FT9,,1000,X\n');
    await expectProblem(
      await uploadStatement(h, treasury, { source: BANK_A, date }, { name: 'x.csv', bytes: other }, key),
      409,
      'idempotency-key-reused',
    );
    await expectProblem(
      await uploadStatement(h, treasury, { source: BANK_A, date }, await bankFile(), null),
      400,
      'idempotency-key-required',
    );
  });

  it("reads each gateway's own file, and a generic one with a mapping", async () => {
    const admin = await mintToken({ role: 'admin' });
    const vnpay = await expectJson(
      await uploadStatement(
        h,
        admin,
        { source: 'vnpay', date: freshDate() },
        { name: 'vnpay.csv', bytes: await statementFixture('vnpay-daily.csv') },
      ),
      201,
    );
    expect(vnpay).toMatchObject({ linesTotal: 6, linesImported: 3, linesRejected: 3, creditTotal: 1_385_000, debitTotal: 0 });
    expect(vnpay.rejected.map((r: { line: number }) => r.line)).toEqual([5, 6, 7]);
    const dvcqg = await expectJson(
      await uploadStatement(
        h,
        admin,
        { source: 'dvcqg', date: freshDate() },
        { name: 'pp.csv', bytes: await statementFixture('dvcqg-daily.csv') },
      ),
      201,
    );
    expect(dvcqg).toMatchObject({ linesTotal: 3, linesImported: 2, creditTotal: 200_000 });
    const mapping = JSON.stringify({ time: 'Ngay', transactionId: 'So CT', amount: 'So tien', direction: 'Loai', text: 'Dien giai' });
    const generic = await expectJson(
      await uploadStatement(
        h,
        treasury,
        { source: BANK_A, date: freshDate(), mapping },
        { name: 'khac.csv', bytes: await statementFixture('generic-mapped.csv') },
      ),
      201,
    );
    expect(generic).toMatchObject({ linesTotal: 3, linesImported: 2, creditTotal: 135_000, debitTotal: 22_000, rejected: [{ line: 4 }] });
    const [row] = await h.db.db.select().from(statements).where(eq(statements.id, generic.id));
    expect(row).toMatchObject({ format: 'csv', mapping: JSON.parse(mapping) });
  });

  it('imports an XLSX statement (first sheet)', async () => {
    const wb = new ExcelJS.Workbook();
    const sheet = wb.addWorksheet('Sao ke');
    sheet.addRow(['Ngày giao dịch', 'Số tham chiếu', 'Ghi nợ', 'Ghi có', 'Nội dung']);
    sheet.addRow([new Date(Date.UTC(2026, 11, 3, 8, 0, 0)), 'FT1', null, 135000, 'HP7K2M9Q']);
    sheet.addRow([new Date(Date.UTC(2026, 11, 3, 9, 0, 0)), 'FT2', null, -5, 'am']);
    sheet.getColumn(1).numFmt = 'dd/mm/yyyy hh:mm:ss';
    const bytes = new Uint8Array(await wb.xlsx.writeBuffer());
    const answer = await expectJson(
      await uploadStatement(
        h,
        treasury,
        { source: BANK_A, date: freshDate() },
        { name: 'saoke.xlsx', bytes, type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' },
      ),
      201,
    );
    expect(answer).toMatchObject({
      linesTotal: 2,
      linesImported: 1,
      creditTotal: 135_000,
      rejected: [{ line: 3, reason: expect.stringMatching(/negative/) }],
    });
  });

  describe('bad input: a problem, and nothing written', () => {
    const cases: Array<[string, () => Promise<Response>, number, string]> = [
      ['no file', async () => uploadStatement(h, treasury, { source: BANK_A, date: '2026-12-03' }), 400, 'validation-failed'],
      [
        'the file before the fields',
        async () => {
          const { body, contentType } = multipart({}, await bankFile());
          return h.request('POST', '/v1/statements', {
            token: treasury,
            rawBody: body,
            headers: { 'content-type': contentType, 'idempotency-key': 'k-order' },
          });
        },
        400,
        'validation-failed',
      ],
      [
        'a bad date',
        async () => uploadStatement(h, treasury, { source: BANK_A, date: '2026-02-30' }, await bankFile()),
        400,
        'validation-failed',
      ],
      [
        'an unknown source',
        async () => uploadStatement(h, treasury, { source: 'momo', date: '2026-12-03' }, await bankFile()),
        422,
        'unknown-source',
      ],
      [
        'an account no agency collects into',
        async () => uploadStatement(h, treasury, { source: 'bank:123456789', date: '2026-12-03' }, await bankFile()),
        422,
        'unknown-source',
      ],
      [
        'a mapping that is not JSON',
        async () => uploadStatement(h, treasury, { source: BANK_A, date: '2026-12-03', mapping: '{amount:' }, await bankFile()),
        400,
        'validation-failed',
      ],
      [
        'a mapping with an unknown field',
        async () =>
          uploadStatement(
            h,
            treasury,
            { source: BANK_A, date: '2026-12-03', mapping: '{"amount":"Ghi có","payer":"x"}' },
            await bankFile(),
          ),
        400,
        'validation-failed',
      ],
      [
        'a mapping naming a missing column',
        async () => uploadStatement(h, treasury, { source: BANK_A, date: '2026-12-03', mapping: '{"amount":"Số tiền"}' }, await bankFile()),
        400,
        'validation-failed',
      ],
      [
        'an empty file',
        async () => uploadStatement(h, treasury, { source: BANK_A, date: '2026-12-03' }, { name: 'empty.csv', bytes: new Uint8Array(0) }),
        422,
        'statement-unreadable',
      ],
      [
        'a header and no lines',
        async () =>
          uploadStatement(
            h,
            treasury,
            { source: BANK_A, date: '2026-12-03' },
            { name: 'h.csv', bytes: new TextEncoder().encode('Ngày giao dịch,Số tham chiếu,Ghi nợ,Ghi có,Nội dung\n') },
          ),
        422,
        'statement-unreadable',
      ],
      [
        'a file of another format',
        async () => uploadStatement(h, await mintToken({ role: 'admin' }), { source: 'vnpay', date: '2026-12-03' }, await bankFile()),
        422,
        'statement-unreadable',
      ],
      [
        'neither CSV nor XLSX',
        async () =>
          uploadStatement(
            h,
            treasury,
            { source: BANK_A, date: '2026-12-03' },
            { name: 'saoke.pdf', bytes: new TextEncoder().encode('%PDF-1.4'), type: 'application/pdf' },
          ),
        415,
        'unsupported-media-type',
      ],
      [
        'an .xlsx that is not a workbook',
        async () =>
          uploadStatement(
            h,
            treasury,
            { source: BANK_A, date: '2026-12-03' },
            { name: 'saoke.xlsx', bytes: new TextEncoder().encode('a,b\n1,2\n') },
          ),
        415,
        'unsupported-media-type',
      ],
      [
        'not multipart',
        async () =>
          h.request('POST', '/v1/statements', { token: treasury, body: { source: BANK_A }, headers: { 'idempotency-key': 'k-json' } }),
        415,
        'unsupported-media-type',
      ],
      [
        'a broken multipart body',
        async () =>
          h.request('POST', '/v1/statements', {
            token: treasury,
            rawBody: '--x\r\nnonsense',
            headers: { 'content-type': 'multipart/form-data; boundary=x', 'idempotency-key': 'k-broken' },
          }),
        400,
        'validation-failed',
      ],
      [
        'text that is not UTF-8',
        async () =>
          uploadStatement(
            h,
            treasury,
            { source: BANK_A, date: '2026-12-03' },
            {
              name: 'cp1258.csv',
              bytes: new Uint8Array([
                ...new TextEncoder().encode('Ngày giao dịch,Số tham chiếu,Ghi nợ,Ghi có,Nội dung\n03/12/2026,FT1,,1000,'),
                0xd3,
                0xec,
                0x0a,
              ]),
            },
          ),
        422,
        'statement-unreadable',
      ],
    ];
    it.each(cases)('%s', async (_, send, status, code) => {
      const before = await statementCounts(h);
      await expectProblem(await send(), status, code);
      expect(await statementCounts(h)).toEqual(before);
    });

    it('a mapping naming a missing column says which', async () => {
      const problem = await expectProblem(
        await uploadStatement(
          h,
          treasury,
          { source: BANK_A, date: '2026-12-03', mapping: '{"amount":"Ghi có","reference":"Mã tham chiếu"}' },
          await bankFile(),
        ),
        400,
        'validation-failed',
      );
      expect(problem.errors).toEqual([{ path: 'mapping.reference', message: 'no such column in the file' }]);
    });

    it('a file over STATEMENT_MAX_BYTES (413), while the 1 MiB limit of the rest of the API does not apply', async () => {
      const small = await createHarness({
        treasuryDay: { sources: {}, missingFlagDays: 3, amountTimeWindowMinutes: 30, statementMaxBytes: 2 * 1024 * 1024 },
      });
      try {
        await seedAgencyTree(small.ctx);
        await giveAccounts(small.ctx);
        const line = '03/12/2026 08:00:00,FT1,,135000,HP7K2M9Q NOP LE PHI\n';
        const header = 'Ngày giao dịch,Số tham chiếu,Ghi nợ,Ghi có,Nội dung\n';
        const ok = new TextEncoder().encode(header + line.repeat(Math.floor((1.5 * 1024 * 1024) / line.length)));
        const imported = await expectJson(
          await uploadStatement(small, treasury, { source: BANK_A, date: '2026-12-03' }, { name: 'big.csv', bytes: ok }),
          201,
        );
        expect(imported.linesTotal).toBe(Math.floor((1.5 * 1024 * 1024) / line.length));
        const tooBig = new TextEncoder().encode(header + line.repeat(Math.floor((2.5 * 1024 * 1024) / line.length)));
        const before = await statementCounts(small);
        await expectProblem(
          await uploadStatement(small, treasury, { source: BANK_A, date: '2026-12-04' }, { name: 'huge.csv', bytes: tooBig }),
          413,
          'payload-too-large',
        );
        expect(await statementCounts(small)).toEqual(before);
      } finally {
        await small.close();
      }
    });

    it('XLSX without a spreadsheet reader (Workers) answers 415; CSV still works', async () => {
      const workers = await createHarness({ withoutSpreadsheets: true });
      try {
        await seedAgencyTree(workers.ctx);
        await giveAccounts(workers.ctx);
        const problem = await expectProblem(
          await uploadStatement(
            workers,
            treasury,
            { source: BANK_A, date: '2026-12-03' },
            { name: 's.xlsx', bytes: new Uint8Array([0x50, 0x4b, 3, 4]) },
          ),
          415,
          'unsupported-media-type',
        );
        expect(problem.detail).toMatch(/CSV/);
        await expectJson(await uploadStatement(workers, treasury, { source: BANK_A, date: '2026-12-03' }, await bankFile()), 201);
      } finally {
        await workers.close();
      }
    });
  });

  describe('scope', () => {
    it("a treasury user of another commune cannot upload (422, as for an account no agency holds), list or read (404) this commune's statements", async () => {
      const date = freshDate();
      const own = await expectJson(await uploadStatement(h, treasury, { source: BANK_A, date }, await bankFile()), 201);
      const outsider = await mintToken({ role: 'treasury', agencies: [AGENCIES.communeB] });
      const before = await statementCounts(h);
      await expectProblem(await uploadStatement(h, outsider, { source: BANK_A, date }, await bankFile()), 422, 'unknown-source');
      expect(await statementCounts(h)).toEqual(before);
      await expectProblem(await h.request('GET', `/v1/statements/${own.id}`, { token: outsider }), 404, 'not-found');
      await expectProblem(await h.request('GET', `/v1/statements/${own.id}/lines`, { token: outsider }), 404, 'not-found');
      const list = await expectJson(await h.request('GET', `/v1/statements?date=${date}`, { token: outsider }), 200);
      expect(list.items).toEqual([]);
      const province = await mintToken({ role: 'treasury', agencies: [AGENCIES.province] });
      const seen = await expectJson(await h.request('GET', `/v1/statements?date=${date}`, { token: province }), 200);
      expect(seen.items.map((s: { id: string }) => s.id)).toEqual([own.id]);
    });
  });

  describe('streaming', () => {
    const header = 'Ngày giao dịch,Số tham chiếu,Ghi nợ,Ghi có,Nội dung\n';
    /** A generated statement, produced a line at a time as the reader pulls. */
    function generated(lines: number, onPull?: (produced: number) => Promise<void>) {
      const encoder = new TextEncoder();
      let produced = 0;
      const stream = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (produced === 0) controller.enqueue(encoder.encode(header));
          if (produced >= lines) return controller.close();
          let chunk = '';
          for (let i = 0; i < 100 && produced < lines; i++, produced++)
            chunk += `03/12/2026 08:00:00,FT${produced},,${1000 + produced},HP${produced} NOP PHI\n`;
          controller.enqueue(encoder.encode(chunk));
          await onPull?.(produced);
        },
      });
      return { stream, produced: () => produced };
    }

    it('the service writes lines in batches while the file is still arriving', async () => {
      const total = LINE_BATCH * 10;
      const body = generated(total);
      const progress: Array<{ written: number; produced: number }> = [];
      const principal = { subject: 'thu-quy-lan', role: 'treasury' as const, agencies: [AGENCIES.communeA] };
      const result = await importStatement(h.ctx, principal, {
        source: BANK_A,
        date: freshDate(),
        body: body.stream,
        format: 'csv',
        onProgress: ({ lines }) => progress.push({ written: lines, produced: body.produced() }),
      });
      expect(result.body.linesTotal).toBe(total);
      expect(progress.length).toBeGreaterThanOrEqual(10);
      // The first lines were in the database when only part of the file had been produced: a batch
      // of INSERTed lines on PGlite, the first chunk's records through COPY on a server.
      if (onServer) expect(progress[0]!.written).toBeGreaterThan(0);
      else expect(progress[0]!.written).toBe(LINE_BATCH);
      expect(progress[0]!.produced).toBeLessThan(total / 2);
    });

    it('the route streams the upload: lines are in the database before the body has ended (and past 1 MiB)', async () => {
      const total = 30_000; // about 1.7 MB of CSV
      const date = freshDate();
      let seenWhileUploading = -1;
      const enc = new TextEncoder();
      const boundary = '----stream-test';
      const file = generated(total, async (produced) => {
        if (produced === 25_000) {
          // On a server the file streams through one COPY into the import's staging table, its lines
          // visible when the import commits: the COPY's progress says how far it is.
          const rows = onServer
            ? await queryRows<{ n: number }>(
                h.db.db,
                sql`SELECT coalesce(sum(tuples_processed), 0)::int AS n FROM pg_stat_progress_copy WHERE datname = current_database() AND command = 'COPY FROM'`,
              )
            : await queryRows<{ n: number }>(
                h.db.db,
                sql`SELECT count(*)::int AS n FROM statement_lines l JOIN statements s ON s.id = l.statement_id WHERE s.source = ${BANK_A} AND s.business_date = ${date}`,
              );
          seenWhileUploading = Number(rows[0]!.n);
        }
      });
      const fileReader = file.stream.getReader();
      let stage = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (stage === 0) {
            controller.enqueue(
              enc.encode(
                `--${boundary}\r\nContent-Disposition: form-data; name="source"\r\n\r\n${BANK_A}\r\n--${boundary}\r\nContent-Disposition: form-data; name="date"\r\n\r\n${date}\r\n` +
                  `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="gen.csv"\r\nContent-Type: text/csv\r\n\r\n`,
              ),
            );
            stage = 1;
            return;
          }
          if (stage === 1) {
            const next = await fileReader.read();
            if (!next.done) return controller.enqueue(next.value);
            stage = 2;
          }
          controller.enqueue(enc.encode(`\r\n--${boundary}--\r\n`));
          controller.close();
        },
      });
      const answer = await expectJson(
        await h.request('POST', '/v1/statements', {
          token: treasury,
          rawBody: body,
          headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'idempotency-key': `stream-${date}` },
        }),
        201,
      );
      expect(answer).toMatchObject({ linesTotal: total, linesImported: total, linesRejected: 0 });
      expect(seenWhileUploading).toBeGreaterThan(0);
      expect(seenWhileUploading).toBeLessThan(total);
    });
  });

  it('the jobs purge an import a crash cut off (hours old, still importing), never one under way or a current statement', async () => {
    const importing = async (date: string, hoursAgo: number, status: 'importing' | 'current' = 'importing') => {
      const id = crypto.randomUUID();
      const at = new Date(Date.now() - hoursAgo * 3_600_000);
      await h.db.db.insert(statements).values({
        id,
        source: BANK_A,
        businessDate: date,
        agencyCode: AGENCIES.communeA,
        format: 'bank',
        contentHash: `importing:${id}`,
        status,
        uploadedBy: 'thu-quy-lan',
        createdAt: at,
      });
      await h.db.db
        .insert(statementLines)
        .values([1, 2, 3].map((lineNo) => ({ statementId: id, lineNo, amount: 1000, direction: 'credit' as const })));
      return id;
    };
    const cutOff = await importing(freshDate(), 7);
    const underWay = await importing(freshDate(), 1);
    const current = await importing(freshDate(), 30, 'current');
    const results = await runJobs(h.ctx);
    expect(results['purge-abandoned-imports']).toEqual({ purged: 1 });
    const left = await h.db.db
      .select({ id: statements.id })
      .from(statements)
      .where(sql`${statements.id} IN (${cutOff}, ${underWay}, ${current})`);
    expect(left.map((r) => r.id).sort()).toEqual([underWay, current].sort());
    const lines = await queryRows<{ id: string; n: number }>(
      h.db.db,
      sql`SELECT statement_id AS id, count(*)::int AS n FROM statement_lines WHERE statement_id IN (${cutOff}, ${underWay}, ${current}) GROUP BY statement_id`,
    );
    expect(Object.fromEntries(lines.map((r) => [r.id, r.n]))).toEqual({ [underWay]: 3, [current]: 3 });
    expect(await runJobs(h.ctx).then((r) => r['purge-abandoned-imports'])).toEqual({ purged: 0 });
  });

  it('two different files for the same day at the same moment: exactly one is current, the other superseded by it', async () => {
    const date = freshDate();
    const file = (n: number) => ({
      name: `f${n}.csv`,
      bytes: new TextEncoder().encode(`Ngày giao dịch,Số tham chiếu,Ghi nợ,Ghi có,Nội dung\n03/12/2026,FT${n},,${n}000,HP${n}\n`),
    });
    const answers = await Promise.all([1, 2, 3].map((n) => uploadStatement(h, treasury, { source: BANK_A, date }, file(n))));
    for (const a of answers) expect(a.status).toBe(201);
    const rows = await h.db.db
      .select()
      .from(statements)
      .where(and(eq(statements.source, BANK_A), eq(statements.businessDate, date)));
    expect(rows.filter((r) => r.status === 'current')).toHaveLength(1);
    expect(rows.filter((r) => r.status === 'superseded')).toHaveLength(2);
  });
});
