import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconciliations, statements } from '../../src/db/schema/index.ts';
import { databaseLabel } from '../helpers/database.ts';
import { AGENCIES, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, mintToken } from '../helpers/harness.ts';
import { csrfOf, openPage, postForm, signIn } from '../helpers/session.ts';
import { insertStatement, multipart } from '../helpers/statements.ts';
import { COMMUNE_A_ACCOUNT, giveCommuneAnAccount } from '../helpers/vietqr.ts';

/**
 * The treasury's day as pages, through `app.request`: the session guards them, the streamed upload
 * checks the CSRF token before it reads the file and refuses bad input on the page with nothing
 * written, and a day that is not clean is not closed (the refusal shown where the clerk pressed).
 */
const SOURCE = `bank:${COMMUNE_A_ACCOUNT.accountNumber}`;
const BANK_CSV = 'Ngày giao dịch,Số tham chiếu,Ghi nợ,Ghi có,Nội dung\n03/12/2026 08:00:00,FT1,,135.000,HPZZZZZZZZZZ\n';

let h: Harness;
let cookie: string;

beforeAll(async () => {
  h = await createHarness();
  await seedAgencyTree(h.ctx);
  await giveCommuneAnAccount(h);
  cookie = await signIn(h, await mintToken({ role: 'treasury', agencies: [AGENCIES.province], subject: 'ke-toan-hoa' }));
});

afterAll(() => h?.close());

function upload(fields: Record<string, string>, csv = BANK_CSV) {
  const { body, contentType } = multipart(fields, { name: 'saoke.csv', bytes: new TextEncoder().encode(csv) });
  return h.request('POST', '/dashboard/treasury/statements', {
    rawBody: body,
    headers: { 'content-type': contentType, accept: 'text/html', cookie },
  });
}

const statementsOf = (date: string) => h.db.db.select().from(statements).where(eq(statements.businessDate, date));

describe(`the treasury's day pages, on ${databaseLabel}`, () => {
  it('are for treasury and admin, under the session', async () => {
    expect((await openPage(h, '/dashboard/treasury')).status).toBe(303);
    const campaign = await signIn(h, await mintToken({ role: 'campaign', agencies: [AGENCIES.province] }));
    expect((await openPage(h, '/dashboard/treasury', campaign)).status).toBe(403);
    const page = await openPage(h, '/dashboard/treasury?date=2026-12-03', cookie);
    expect(page.status).toBe(200);
    const text = await page.text();
    expect(text).toContain('Ngày làm việc 03/12/2026');
    expect(text).toContain(`<option value="${SOURCE}">`);
    expect((await openPage(h, '/dashboard/treasury?date=3-12-2026', cookie)).status).toBe(400);
  });

  it('checks the CSRF token before reading the file: without it nothing is written', async () => {
    const response = await upload({ csrf: 'forged', source: SOURCE, date: '2026-12-03' });
    expect(response.status).toBe(403);
    expect(await statementsOf('2026-12-03')).toEqual([]);
  });

  it('imports the upload and shows its result; bad input is refused on the page with nothing written', async () => {
    const csrf = csrfOf(await (await openPage(h, '/dashboard/treasury', cookie)).text());
    const bad = await upload({ csrf, source: 'bank:not an account', date: '2026-12-03' });
    expect(bad.status).toBe(422);
    expect(await bad.text()).toContain('Không thực hiện được');
    expect(await statementsOf('2026-12-03')).toEqual([]);

    const done = await upload(
      { csrf, key: crypto.randomUUID(), source: SOURCE, date: '2026-12-03' },
      `${BANK_CSV}03/12/2026 09:00:00,FT2,,abc,HPX\n`,
    );
    expect(done.status).toBe(303);
    const location = done.headers.get('location')!;
    expect(location).toMatch(/^\/dashboard\/treasury\?date=2026-12-03&statement=[0-9a-f-]{36}&notice=imported/);
    const [statement] = await statementsOf('2026-12-03');
    expect(statement).toMatchObject({ source: SOURCE, status: 'current', linesImported: 1, linesRejected: 1 });
    const shown = await (await openPage(h, location, cookie)).text();
    expect(shown).toContain('Kết quả nạp sao kê');
    expect(shown).toMatch(/<td data-label="Dòng" class="num"><span class="cell">3<\/span><\/td>/); // the bad line, by number
  });

  it('does not close a day that is not clean, and says why on the page', async () => {
    await insertStatement(h, {
      source: SOURCE,
      date: '2026-12-05',
      lines: [{ transactionId: 'FT-STRAY', amount: 20_000, occurredAt: new Date('2026-12-05T03:00:00Z') }],
    });
    const csrf = csrfOf(await (await openPage(h, '/dashboard/treasury?date=2026-12-05', cookie)).text());
    const matched = await postForm(h, '/dashboard/treasury/reconciliations', { csrf, source: SOURCE, date: '2026-12-05' }, cookie);
    expect(matched.status).toBe(303);
    const [day] = await h.db.db.select().from(reconciliations).where(eq(reconciliations.businessDate, '2026-12-05'));
    const page = await (await openPage(h, '/dashboard/treasury?date=2026-12-05', cookie)).text();
    expect(page).toContain('1 chênh lệch đang mở');
    const refused = await postForm(h, `/dashboard/treasury/reconciliations/${day!.id}/close`, { csrf, date: '2026-12-05' }, cookie);
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain('Không thực hiện được');
    const [still] = await h.db.db.select().from(reconciliations).where(eq(reconciliations.id, day!.id));
    expect(still!.status).toBe('open');
  });
});
