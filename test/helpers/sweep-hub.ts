import { randomInt } from 'node:crypto';
import { connectServer } from '../../src/db/server.ts';
import { signatureHeader } from '../../src/gateways/sandbox/protocol.ts';
import { demoGatewayEnv, demoGateways } from './channels.ts';
import { AGENCIES, createProcedure, idempotencyKey, seedAgencyTree, uniqueDossierCode } from './factories.ts';
import { createHarness, type Harness, mintToken } from './harness.ts';
import { freePort, HUB_JWT_SECRET, type HubProcess, startHubProcess, stopHubProcess } from './hub-process.ts';
import { type OwnPostgres, startOwnPostgres } from './own-postgres.ts';
import { multipart } from './statements.ts';
import { COMMUNE_A_ACCOUNT, giveCommuneAnAccount } from './vietqr.ts';

/**
 * The real hub (`src/server.ts`, supervised as `npm start` runs it) on a PostgreSQL of the test's
 * own, for the sweeps of issue 14 (test/reliability/hostile-input.test.ts, security-sweep.test.ts):
 * every gateway configured and pointing at the hub's own emulators (so they are mounted), every
 * rate limit off (a sweep sends thousands of refused requests from one address), the test tree
 * of agencies and one procedure seeded. `harness` is an in-process app on the same database: it
 * seeds, and lists the routes the app registers (the pages and emulators /openapi.json omits).
 */
export interface SweepHub {
  pg: OwnPostgres;
  hub: HubProcess;
  harness: Harness;
  /** A postgres.js connection to the hub's database. */
  sql: ReturnType<typeof connectServer>['sql'];
  procedure: string;
  close(): Promise<void>;
}

const SWEEP_SANDBOX_SECRET = 'sweep-sandbox-secret-0123456789abcdef';
export const RETURN_URL = 'https://dichvucong.dongnai.gov.vn/thanh-toan/ket-qua';
export const BANK_SOURCE = `bank:${COMMUNE_A_ACCOUNT.accountNumber}`;

export async function startSweepHub(env: Record<string, string> = {}): Promise<SweepHub> {
  const pg = await startOwnPostgres();
  let hub: HubProcess | undefined;
  let harness: Harness | undefined;
  try {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    hub = await startHubProcess(pg.url, {
      PORT: String(port),
      ...demoGatewayEnv(base),
      SANDBOX_SECRETS: SWEEP_SANDBOX_SECRET,
      WEBHOOK_ALLOWED_HOSTS: 'dossiers.example.gov.vn',
      RATE_LIMIT_WRITES_PER_MINUTE: '0',
      RATE_LIMIT_FAILED_AUTH_PER_MINUTE: '0',
      RATE_LIMIT_RECEIPT_LOOKUPS_PER_MINUTE: '0',
      RATE_LIMIT_BAD_CALLBACKS_PER_MINUTE: '0',
      ...env,
    });
    const handle = connectServer(pg.url, { poolMax: 3 });
    harness = await createHarness({ database: handle, emulators: (env) => demoGateways(env.baseUrl) });
    await seedAgencyTree(harness.ctx);
    await giveCommuneAnAccount(harness);
    const procedure = await createProcedure(harness.ctx);
    const started = { pg, hub, harness };
    return {
      ...started,
      sql: handle.sql,
      procedure,
      async close() {
        await stopHubProcess(started.hub);
        await started.harness.close();
        await started.pg.destroy();
      },
    };
  } catch (error) {
    await stopHubProcess(hub);
    await harness?.close().catch(() => {});
    await pg.destroy();
    throw error;
  }
}

/** Row counts of every table of the public schema, by name. */
export async function tableCounts(sql: SweepHub['sql']): Promise<Record<string, number>> {
  const tables = await sql<{ name: string }[]>`SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`;
  const [row] = await sql.unsafe(
    `SELECT ${tables.map(({ name }) => `(SELECT count(*) FROM public."${name.replaceAll('"', '""')}")::int AS "${name.replaceAll('"', '""')}"`).join(', ')}`,
  );
  return row as Record<string, number>;
}

/**
 * Tables derived from the roll-ups and kept by reads and the jobs, not by what a request asks:
 * a campaign's progress read makes its summary (services/campaign-summaries.ts), and a refresh
 * purges the deltas it counts. A refused request that wrote a roll-up would show in the
 * roll-ups and the dossiers, which are counted.
 */
export const DERIVED_TABLES = ['campaign_summaries', 'campaign_summary_cells', 'indicator_deltas'];

/** Tables whose count differs, as `name: before → after`. */
export function changedTables(before: Record<string, number>, after: Record<string, number>, except: string[] = []): string[] {
  return Object.keys({ ...before, ...after })
    .filter((t) => !except.includes(t) && before[t] !== after[t])
    .map((t) => `${t}: ${before[t]} → ${after[t]}`);
}

/** Runs `task` over `items`, `limit` at a time. */
export async function pool<T>(items: readonly T[], limit: number, task: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await task(items[next++]!);
    }),
  );
}

/** Personal data put in agency A's dossiers and intents: none of it may reach the hub's logs. */
export interface PersonalData {
  names: string[];
  phones: string[];
  emails: string[];
  idNumbers: string[];
  addresses: string[];
}

export function personalData(): PersonalData {
  const tag = Array.from({ length: 6 }, () => 'bcdfghklmnpqrstvxz'[randomInt(18)]).join('');
  const digits = (n: number) => Array.from({ length: n }, () => randomInt(10)).join('');
  const phones = [`09${digits(8)}`, `03${digits(8)}`];
  const emails = [`huyen.tram.${tag}@thu-dien-tu.example.vn`, `nguoi-nop.${tag}@mail.example.vn`];
  return {
    names: [`Lê Thị Huyền Trâm ${tag}`, `Võ Đức Phước ${tag}`],
    phones,
    emails,
    idNumbers: [`0791${digits(8)}`, `0382${digits(8)}`],
    addresses: [`Số 17 hẻm ${tag}, phường Trấn Biên, SĐT ${phones[0]}, thư ${emails[0]}`, `Ấp ${tag}, SĐT ${phones[1]}, ${emails[1]}`],
  };
}

/** Every string of the personal data, as sent. */
export const personalStrings = (p: PersonalData) => [...p.names, ...p.phones, ...p.emails, ...p.idNumbers, ...p.addresses];

/** Agency A's resources, one of each type the API lets its staff (or an admin, for it) create. */
export interface AgencyResources {
  agency: string;
  /** A dossier with an open intent (and its personal data). */
  dossier: string;
  intent: string;
  intentReference: string;
  paidDossier: string;
  paidIntent: string;
  paidReference: string;
  receipt: string;
  refund: string;
  review: string;
  reviewIntent: string;
  statement: string;
  statementDate: string;
  reconciliation: string;
  discrepancy: string;
  campaign: string;
  endpoint: string;
  delivery: string;
  offlineDossier: string;
}

type Send = (
  method: string,
  path: string,
  options?: { token?: string; body?: unknown; headers?: Record<string, string>; raw?: Uint8Array },
) => Promise<{
  status: number;
  json: any;
}>;

function sender(base: string): Send {
  return async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: BodyInit | undefined = options.raw as BodyInit | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${base}${path}`, { method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(30_000) });
    const text = await response.text();
    let json: any;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: response.status, json };
  };
}

const expectStatus = (what: string, answer: { status: number; json: any }, ...statuses: number[]) => {
  if (!statuses.includes(answer.status)) throw new Error(`${what}: ${answer.status} ${JSON.stringify(answer.json).slice(0, 500)}`);
  return answer.json;
};

/**
 * Creates agency A's (commune A's) resources through the API of the running hub, with commune A's
 * portal and treasury tokens (an admin's for what only an admin creates: a campaign, a webhook
 * endpoint), and `pii` in the dossiers and intents.
 */
export async function createAgencyResources(s: SweepHub, pii: PersonalData): Promise<AgencyResources> {
  const send = sender(s.hub.url);
  const agency = AGENCIES.communeA;
  const portal = await mintToken({ role: 'portal', agencies: [agency], secret: HUB_JWT_SECRET, subject: 'motcua-tran-bien' });
  const treasury = await mintToken({ role: 'treasury', agencies: [agency], secret: HUB_JWT_SECRET, subject: 'thu-quy-tran-bien' });
  const admin = await mintToken({ role: 'admin', secret: HUB_JWT_SECRET, subject: 'quan-tri' });
  const withKey = () => ({ 'idempotency-key': idempotencyKey() });

  // A webhook endpoint first: the payments below give it deliveries (nothing sends them: no jobs run).
  const endpoint = expectStatus(
    'webhook endpoint',
    await send('POST', '/v1/webhook-endpoints', {
      token: admin,
      headers: withKey(),
      body: {
        url: 'https://dossiers.example.gov.vn/hub-events',
        agencyCode: agency,
        events: ['dossier.paid'],
        secrets: ['whsec-sweep-secret-0123456789abcdef'],
      },
    }),
    201,
  ).id as string;

  const dossier = async (which: number) => {
    const code = uniqueDossierCode(agency);
    expectStatus(
      'dossier',
      await send('PUT', `/v1/dossiers/${code}`, {
        token: portal,
        body: {
          procedureCode: s.procedure,
          agencyCode: agency,
          channel: 'online',
          receivedAt: '2026-11-20T09:30:00+07:00',
          applicant: { name: pii.names[which % 2], address: pii.addresses[which % 2] },
        },
      }),
      201,
    );
    return code;
  };
  const intent = async (code: string, gateway = 'sandbox', which = 0) =>
    expectStatus(
      `intent (${gateway})`,
      await send('POST', '/v1/payment-intents', {
        token: portal,
        headers: withKey(),
        body: {
          dossierCode: code,
          gateway,
          returnUrl: RETURN_URL,
          payer: { name: pii.names[which % 2], idNumber: pii.idNumbers[which % 2], address: pii.addresses[which % 2], ip: '203.113.0.7' },
        },
      }),
      201,
    ) as { id: string; reference: string; amount: number };
  const pay = async (paid: { reference: string; amount: number }, amount = paid.amount) => {
    const raw = JSON.stringify({
      type: 'payment.succeeded',
      reference: paid.reference,
      transactionId: `SBX${paid.reference}`,
      amount,
      currency: 'VND',
      occurredAt: new Date().toISOString(),
    });
    const answer = await send('POST', '/v1/callbacks/sandbox', {
      raw: new TextEncoder().encode(raw),
      headers: {
        'content-type': 'application/json',
        'sandbox-signature': await signatureHeader(SWEEP_SANDBOX_SECRET, Math.floor(Date.now() / 1000), raw),
      },
    });
    expectStatus('sandbox callback', answer, 200);
  };

  const openDossier = await dossier(0);
  const open = await intent(openDossier, 'sandbox', 0);
  // The other channels carry the payer too (VNPay's URL, the national platform's init message).
  await intent(await dossier(1), 'vnpay', 1);
  await intent(await dossier(0), 'dvcqg', 0);

  const paidDossier = await dossier(1);
  const paid = await intent(paidDossier, 'sandbox', 1);
  await pay(paid);
  const receipt = expectStatus('receipt', await send('GET', `/v1/payment-intents/${paid.id}/receipt`, { token: portal }), 200).id as string;
  const refund = expectStatus(
    'refund',
    await send('POST', `/v1/payment-intents/${paid.id}/refunds`, {
      token: treasury,
      headers: withKey(),
      body: { amount: 1_000, expectedRefundable: paid.amount, reason: 'Hoàn một phần phí nộp thừa' },
    }),
    201,
  ).id as string;

  // A payment of the wrong amount: a review for a person.
  const mismatched = await intent(await dossier(0), 'sandbox', 0);
  await pay(mismatched, mismatched.amount - 1_000);
  const reviews = expectStatus('reviews', await send('GET', `/v1/payment-reviews?agency=${agency}&limit=100`, { token: treasury }), 200);
  const review = (reviews.items as Array<{ id: string; intentId: string | null }>).find((r) => r.intentId === mismatched.id)?.id;
  if (!review) throw new Error(`no review for the mismatched payment: ${JSON.stringify(reviews).slice(0, 500)}`);

  // Paid at the counter.
  const offlineDossier = await dossier(1);
  expectStatus(
    'offline payment',
    await send('POST', `/v1/dossiers/${offlineDossier}/offline-payments`, {
      token: portal,
      headers: withKey(),
      body: { lines: [1], method: 'cash', collector: 'Nguyễn Thị Lan', paperReceiptNumber: '0000042' },
    }),
    201,
  );

  // Commune A's bank statement of a day, with a credit the hub does not know: a discrepancy.
  const statementDate = '2026-12-02';
  const file = new TextEncoder().encode(
    'Ngày giao dịch,Số tham chiếu,Ghi nợ,Ghi có,Nội dung\n02/12/2026 08:00:00,FT26336000001,,135.000,CK KHONG RO NOI DUNG\n',
  );
  const upload = multipart({ source: BANK_SOURCE, date: statementDate }, { name: 'saoke.csv', bytes: file });
  const statement = expectStatus(
    'statement',
    await send('POST', '/v1/statements', {
      token: treasury,
      raw: upload.body,
      headers: { 'content-type': upload.contentType, ...withKey() },
    }),
    201,
  ).id as string;
  const reconciliation = expectStatus(
    'reconciliation',
    await send('POST', '/v1/reconciliations', { token: treasury, body: { source: BANK_SOURCE, date: statementDate } }),
    200,
    201,
  ).id as string;
  const found = expectStatus(
    'discrepancies',
    await send('GET', `/v1/discrepancies?source=${encodeURIComponent(BANK_SOURCE)}&date=${statementDate}`, { token: treasury }),
    200,
  );
  const discrepancy = (found.items as Array<{ id: string }>)[0]?.id;
  if (!discrepancy) throw new Error(`no discrepancy: ${JSON.stringify(found).slice(0, 500)}`);

  const campaign = expectStatus(
    'campaign',
    await send('POST', '/v1/campaigns', {
      token: admin,
      headers: withKey(),
      body: { name: 'Chiến dịch phường Trấn Biên', agencyCode: agency, startDate: '2026-11-10', targets: { dossierOnlinePayment: 0.7 } },
    }),
    201,
  ).id as string;
  const deliveries = expectStatus('deliveries', await send('GET', `/v1/webhook-endpoints/${endpoint}/deliveries`, { token: admin }), 200);
  const delivery = (deliveries.data as Array<{ id: string }>)[0]?.id;
  if (!delivery) throw new Error(`no webhook delivery: ${JSON.stringify(deliveries).slice(0, 500)}`);

  return {
    agency,
    dossier: openDossier,
    intent: open.id,
    intentReference: open.reference,
    paidDossier,
    paidIntent: paid.id,
    paidReference: paid.reference,
    receipt,
    refund,
    review,
    reviewIntent: mismatched.id,
    statement,
    statementDate,
    reconciliation,
    discrepancy,
    campaign,
    endpoint,
    delivery,
    offlineDossier,
  };
}
