import { count, eq } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { receipts } from '../../src/db/schema/index.ts';
import { signatureHeader } from '../../src/emulators/protocol/sandbox.ts';
import type { Role } from '../../src/services/principal.ts';
import {
  AGENCIES,
  createIntent,
  createProcedure,
  dossierBody,
  idempotencyKey,
  registerDossier,
  rule,
  seedAgencyTree,
  uniqueDossierCode,
} from '../helpers/factories.ts';
import { createHarness, type Harness, mintToken, SANDBOX_SECRETS } from '../helpers/harness.ts';
import { deliverSandboxCallback, sandboxEvent } from '../helpers/sandbox.ts';
import { csrfOf, openPage, signIn } from '../helpers/session.ts';

/**
 * Property: whatever arrives, with a valid token of an allowed role, the answer is 2xx or 4xx,
 * and every 4xx is application/problem+json with a code and the request id (invariant 6):
 * never a 5xx. Bodies are arbitrary JSON, arbitrary values serialised, deeply nested documents,
 * numbers beyond every range, unicode (NUL and unpaired surrogates included), text that is not
 * JSON, and, most often, a valid body with a few fields replaced by such values, which reaches
 * past the schemas into the services. Path parameters are fuzzed too.
 *
 * FUZZ_RUNS sets the number of runs per route (150 by default); a failure prints its seed.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 150);
const TIMEOUT = 120_000;

let h: Harness;
const tokens = {} as Record<Role, string>;
const f = {
  procedure: '',
  catalogue: '',
  catalogueRuleId: '',
  dossier: '',
  intent: '',
  intentReference: '',
  intentAmount: 0,
  paidIntent: '',
  campaign: '',
};

beforeAll(async () => {
  h = await createHarness();
  await seedAgencyTree(h.ctx);
  for (const role of ['portal', 'treasury', 'campaign'] as const) tokens[role] = await mintToken({ role, agencies: [AGENCIES.province] });
  tokens.admin = await mintToken({ role: 'admin' });
  f.procedure = await createProcedure(h.ctx, [
    rule({ feeCode: 'LP01', formula: { type: 'fixed', amount: 135_000 } }),
    rule({ kind: 'phi', feeCode: 'PTB', lineNo: 2, formula: { type: 'percentage', rate: '2', minimum: 10_000 } }),
    rule({
      kind: 'phi',
      feeCode: 'SAO',
      lineNo: 3,
      formula: {
        type: 'per_unit',
        unit: 'trang',
        tiers: [
          { fromUnit: 1, unitAmount: 3_000 },
          { fromUnit: 11, unitAmount: 2_000 },
        ],
      },
    }),
    rule({
      kind: 'phi',
      feeCode: 'TBL',
      lineNo: 4,
      formula: { type: 'table', input: 'quantity', rows: [{ below: 10, amount: 20_000 }, { amount: 40_000 }] },
      adjustments: [{ label: 'Miễn cho hộ nghèo', payerCategories: ['poor_household'], effect: { type: 'exempt' } }],
    }),
  ]);
  f.catalogue = await createProcedure(h.ctx);
  const catalogue = await (await h.request('GET', `/v1/procedures/${f.catalogue}`, { token: tokens.admin })).json();
  f.catalogueRuleId = catalogue.feeRules[0].id;
  const dossier = await registerDossier(h, tokens.portal, f.procedure, { declaredValue: 1_000_000, quantity: 3 });
  f.dossier = dossier.code;
  const intent = await (await createIntent(h, tokens.portal, f.dossier)).json();
  f.intent = intent.id;
  f.intentReference = intent.reference;
  f.intentAmount = intent.amount;
  const other = await registerDossier(h, tokens.portal, f.procedure, { declaredValue: 5_000, quantity: 1 });
  const toPay = await (await createIntent(h, tokens.portal, other.code)).json();
  f.paidIntent = toPay.id;
  const paid = await deliverSandboxCallback(h, sandboxEvent(toPay, { transactionId: 'SBX-SETUP' }));
  expect(await paid.json()).toEqual({ received: true, result: 'applied' });
  const campaign = await h.request('POST', '/v1/campaigns', {
    token: tokens.admin,
    headers: { 'idempotency-key': idempotencyKey() },
    body: { name: 'Chiến dịch', agencyCode: AGENCIES.province, startDate: '2026-11-10', targets: { dossierOnlinePayment: 0.7 } },
  });
  f.campaign = (await campaign.json()).id;
});
afterAll(() => h?.close());

// ---------------------------------------------------------------------------------------------
// Arbitraries

const specialStrings = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  '\udfff',
  'x\ud83d',
  '\ud83d\ude00',
  '\u202e\u0645',
  'Nguyễn Văn An',
  'null',
  'true',
  '__proto__',
  'constructor',
  "' OR 1=1 --",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a template-injection probe, sent as it is.
  '${7*7}',
  '<script>alert(1)</script>',
  '%00',
  '%zz',
  '../..',
  'x'.repeat(5_000),
  '0000-01-01',
  '0000-01-01T00:00:00Z',
  '9999-12-31',
  '9999-12-31T23:59:59Z',
  '2026-02-30',
  '1.000001',
  '000.00.00.H19',
  AGENCIES.otherProvince,
  'sandbox',
  'vnpay',
  'https://example.com/',
  'javascript:alert(1)',
  'NaN',
  '-1',
];

const nastyString = fc.oneof(
  fc.constantFrom(...specialStrings),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ maxLength: 40 }),
);

/** Number tokens JSON.stringify cannot write: placed in the text after serialisation. */
const rawNumbers = [
  '1e400',
  '-1e400',
  '1e308',
  '9007199254740993',
  '123456789012345678901234567890',
  '-0',
  '0.1e-400',
  '1E2',
  '100.0',
  '1.0',
  '-9007199254740993',
];
const RAW_MARK = '\u0001raw:';
const rawNumber = fc.constantFrom(...rawNumbers).map((token) => `${RAW_MARK}${token}`);

const nastyNumber = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -1, 1.5, 0.1, 2 ** 31, 2 ** 53, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, Number.MAX_VALUE, 1e21, -1e-7),
);

const deepValue = fc.integer({ min: 50, max: 3_000 }).map((depth) => {
  let value: unknown = 'deep';
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
  return value;
});

const nastyValue: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: nastyString, weight: 4 },
  { arbitrary: nastyNumber, weight: 3 },
  { arbitrary: rawNumber, weight: 2 },
  { arbitrary: fc.constantFrom(null, true, false, [], {}), weight: 2 },
  { arbitrary: fc.anything({ maxDepth: 3 }), weight: 2 },
  { arbitrary: fc.jsonValue({ maxDepth: 3 }), weight: 1 },
  { arbitrary: fc.array(nastyString, { maxLength: 5 }), weight: 1 },
  { arbitrary: deepValue, weight: 1 },
);

/** JSON text for a value, with raw number tokens put in place. */
function serialise(value: unknown): string | undefined {
  const text = JSON.stringify(value);
  if (text === undefined) return undefined;
  return text.replace(new RegExp(`"${RAW_MARK}([^"]*)"`, 'g'), '$1');
}

type Path = string[];

function pathsOf(value: unknown, prefix: Path = []): Path[] {
  if (!value || typeof value !== 'object') return [];
  const out: Path[] = [];
  for (const [key, item] of Object.entries(value)) {
    out.push([...prefix, key], ...pathsOf(item, [...prefix, key]));
  }
  return out;
}

function mutate(valid: unknown, mutations: Array<{ path: Path; value: unknown; remove: boolean }>): unknown {
  const copy = structuredClone(valid) as Record<string, any>;
  for (const { path, value, remove } of mutations) {
    let target: any = copy;
    for (const key of path.slice(0, -1)) {
      if (!target[key] || typeof target[key] !== 'object') target[key] = {};
      target = target[key];
    }
    const last = path.at(-1)!;
    if (remove) delete target[last];
    else target[last] = value;
  }
  return copy;
}

/** Values of the right kind for some field, so a mutation often passes the schema and reaches the service. */
function plausibleValue(): fc.Arbitrary<unknown> {
  const instant = fc.date({ min: new Date('1899-06-01T00:00:00Z'), max: new Date('2101-01-01T00:00:00Z'), noInvalidDate: true });
  return fc.oneof(
    fc.maxSafeNat(),
    fc.integer({ min: 0, max: 200_000 }),
    instant.map((d) => d.toISOString()),
    fc.tuple(instant, fc.constantFrom('+07:00', '-12:00', '+14:00', 'Z')).map(([d, offset]) => d.toISOString().slice(0, 19) + offset),
    instant.map((d) => d.toISOString().slice(0, 10)),
    fc.constantFrom(
      ...Object.values(AGENCIES),
      'online',
      'direct',
      'postal',
      'student',
      'poor_household',
      f.procedure,
      f.catalogue,
      f.dossier,
      f.intent,
      f.catalogueRuleId,
      'phi',
      'le_phi',
      'exempt',
      'fixed',
      'per_unit',
      'percentage',
      'table',
      '100',
      '0.000001',
      '99.999999',
      null,
    ),
  );
}

/** A valid body with one to three fields replaced, removed or added. */
function mutated(valid: unknown): fc.Arbitrary<string | undefined> {
  const paths = pathsOf(valid);
  const path =
    paths.length > 0
      ? fc.oneof({ arbitrary: fc.constantFrom(...paths), weight: 4 }, { arbitrary: nastyString.map((k) => [k]), weight: 1 })
      : nastyString.map((k) => [k]);
  const value = fc.oneof(nastyValue, plausibleValue());
  const mutation = fc.record({
    path,
    value,
    remove: fc.oneof({ arbitrary: fc.constant(false), weight: 3 }, { arbitrary: fc.constant(true), weight: 1 }),
  });
  return fc.array(mutation, { minLength: 1, maxLength: 3 }).map((m) => serialise(mutate(valid, m)));
}

const deepText = fc
  .tuple(fc.integer({ min: 100, max: 100_000 }), fc.constantFrom('[', '{"a":'))
  .map(([depth, open]) => `${open.repeat(depth)}1${(open === '[' ? ']' : '}').repeat(depth)}`);

/** Any body: mostly near-valid, sometimes anything at all. */
function bodies(valid: unknown): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { arbitrary: mutated(valid), weight: 10 },
    { arbitrary: fc.constant(serialise(valid)), weight: 1 },
    { arbitrary: fc.json({ maxDepth: 4 }), weight: 2 },
    { arbitrary: fc.anything({ maxDepth: 4 }).map(serialise), weight: 2 },
    { arbitrary: deepText, weight: 1 },
    { arbitrary: rawNumber.map((n) => n.slice(RAW_MARK.length)), weight: 1 },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 200 }), weight: 2 },
    { arbitrary: fc.constant(undefined), weight: 1 },
  );
}

const contentTypes = fc.oneof(
  { arbitrary: fc.constant('application/json'), weight: 12 },
  {
    arbitrary: fc.constantFrom(
      undefined,
      'text/plain',
      'application/json; charset=utf-8',
      'application/merge-patch+json',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/json; charset=latin1',
    ),
    weight: 3,
  },
);

/** A path segment: mostly arbitrary text percent-encoded, sometimes raw oddities. */
const segment = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }).map((s) => {
    try {
      return encodeURIComponent(s);
    } catch {
      return 'lone-surrogate';
    }
  }),
  fc.constantFrom(
    '%00',
    '%zz',
    '%',
    '%E0%A4%A',
    '..',
    '.',
    '%2e%2e',
    '%2F',
    '%ud800',
    'a%00b',
    '0',
    '-1',
    '1.000001',
    `${AGENCIES.communeA}-261120-0001`,
    '00000000-0000-0000-0000-000000000000',
    crypto.randomUUID(),
    crypto.randomUUID().toUpperCase(),
    `${'9'.repeat(300)}`,
  ),
);

const roleOf = (roles: readonly Role[]) => fc.constantFrom(...roles);

// ---------------------------------------------------------------------------------------------
// The check

interface FuzzRequest {
  method: string;
  path: string;
  body?: string;
  contentType?: string;
  role?: Role;
  headers?: Record<string, string>;
}

const stats = new Map<string, number>();
afterAll(() => {
  if (process.env.FUZZ_STATS)
    console.log(
      [...stats]
        .sort()
        .map(([k, n]) => `${k}: ${n}`)
        .join('\n'),
    );
});

async function check(req: FuzzRequest, options: { gatewayAnswers?: boolean } = {}) {
  const headers: Record<string, string> = { ...req.headers };
  if (req.contentType) headers['content-type'] = req.contentType;
  const response = await h.request(req.method, req.path, { token: req.role ? tokens[req.role] : undefined, rawBody: req.body, headers });
  const text = await response.text();
  const where = `${req.method} ${req.path} (${req.role ?? 'no token'}) → ${response.status}: ${text.slice(0, 300)}\nbody: ${String(req.body).slice(0, 300)}`;
  expect(response.status, where).toBeGreaterThanOrEqual(200);
  expect(response.status, where).toBeLessThan(500);
  expect(response.headers.get('x-request-id'), where).toBeTruthy();
  const statKey = `${expect.getState().currentTestName?.split(' > ').at(-1)?.slice(0, 40)} | ${req.method} ${response.status}`;
  stats.set(statKey, (stats.get(statKey) ?? 0) + 1);
  if (response.status >= 300 && response.status < 400) {
    // Only a path that normalises out of /v1 (e.g. /v1/../..) lands on the root's redirect.
    expect(new URL(req.path, 'http://hub.test').pathname.startsWith('/v1/'), where).toBe(false);
    return;
  }
  const contentType = response.headers.get('content-type') ?? '';
  if (response.status >= 400 && !(options.gatewayAnswers && /^application\/json/.test(contentType))) {
    expect(contentType, where).toMatch(/^application\/problem\+json/);
    const problem = JSON.parse(text);
    expect(problem.status, where).toBe(response.status);
    expect(typeof problem.code, where).toBe('string');
    expect(problem.requestId, where).toBe(response.headers.get('x-request-id'));
  } else if (response.status !== 204 && !/text\/html|text\/csv|spreadsheetml/.test(contentType)) {
    // Pages and downloads aside, every answer is JSON.
    expect(() => JSON.parse(text), where).not.toThrow();
  }
}

const run = (arbitrary: fc.Arbitrary<FuzzRequest>, options: { gatewayAnswers?: boolean } = {}, numRuns = RUNS) =>
  fc.assert(
    fc.asyncProperty(arbitrary, (req) => check(req, options)),
    { numRuns, interruptAfterTimeLimit: TIMEOUT - 20_000 },
  );

// ---------------------------------------------------------------------------------------------

describe('fuzz: bodies', () => {
  it(
    'PUT /v1/dossiers/{code}',
    async () => {
      const valid = { ...dossierBody(f.procedure), declaredValue: 2_000_000, quantity: 12, payerCategory: 'student' };
      await run(
        fc.record({
          method: fc.constant('PUT'),
          path: fc.oneof(
            fc.constant(null).map(() => `/v1/dossiers/${uniqueDossierCode()}`),
            fc.constant(`/v1/dossiers/${f.dossier}`),
            segment.map((s) => `/v1/dossiers/${s}`),
          ),
          body: bodies(valid),
          contentType: contentTypes,
          role: roleOf(['portal', 'admin']),
        }),
      );
    },
    TIMEOUT,
  );

  it(
    'POST /v1/payment-intents',
    async () => {
      const fresh = await registerDossier(h, tokens.portal, f.procedure, { declaredValue: 10, quantity: 1 });
      const valid = {
        dossierCode: fresh.code,
        obligationIds: fresh.obligations.map((o: { id: string }) => o.id),
        gateway: 'sandbox',
        returnUrl: 'https://dichvucong.dongnai.gov.vn/ket-qua',
      };
      const key = fc.oneof(
        { arbitrary: fc.constant(null).map(() => idempotencyKey()), weight: 6 },
        { arbitrary: fc.constant('fixed-fuzz-key'), weight: 2 },
        { arbitrary: fc.stringMatching(/^[\x20-\x7e]{0,300}$/), weight: 2 },
        { arbitrary: fc.constant(undefined), weight: 1 },
      );
      await run(
        fc.record({
          method: fc.constant('POST'),
          path: fc.constant('/v1/payment-intents'),
          body: bodies(valid),
          contentType: contentTypes,
          role: roleOf(['portal', 'admin']),
          headers: key.map((k): Record<string, string> => (k === undefined ? {} : { 'idempotency-key': k })),
        }),
      );
    },
    TIMEOUT,
  );

  it(
    'PUT /v1/procedures/{code}',
    async () => {
      const valid = {
        name: 'Thủ tục',
        field: 'Tư pháp',
        level: 'tỉnh',
        integratedOnlinePayment: true,
        dataConfidence: 'secondary',
        note: 'ghi chú',
      };
      await run(
        fc.record({
          method: fc.constant('PUT'),
          path: fc.oneof(
            fc.constant(`/v1/procedures/${f.catalogue}`),
            fc.integer({ min: 0, max: 999_999 }).map((n) => `/v1/procedures/8.${String(n).padStart(6, '0')}`),
            segment.map((s) => `/v1/procedures/${s}`),
          ),
          body: bodies(valid),
          contentType: contentTypes,
          role: fc.constant<Role>('admin'),
        }),
      );
    },
    TIMEOUT,
  );

  it(
    'POST /v1/procedures/{code}/fee-rules and PUT /v1/procedures/{code}/fee-rules/{id}',
    async () => {
      const formulas = [
        { type: 'fixed', amount: 50_000 },
        { type: 'percentage', rate: '0.5', minimum: 1_000, maximum: 5_000_000 },
        { type: 'per_unit', unit: 'trang', tiers: [{ fromUnit: 1, unitAmount: 2_000 }], cap: 100_000 },
        { type: 'table', input: 'declaredValue', rows: [{ below: 1_000_000, amount: 10_000 }, { amount: 20_000 }] },
      ];
      const valid = fc.constantFrom(...formulas).map((formula) =>
        rule({
          formula: formula as never,
          adjustments: [
            {
              label: 'Nộp trực tuyến',
              channels: ['online'],
              from: '2026-01-01',
              to: '2026-12-31',
              effect: { type: 'percent_of_base', percent: '50' },
            },
          ],
          rounding: { mode: 'down', unit: 1000 },
          validFrom: '2026-01-01',
          validTo: '2026-12-31',
        }),
      );
      await run(
        fc
          .record({
            method: fc.constantFrom('POST', 'PUT'),
            segment: fc.oneof({ arbitrary: fc.constant(f.catalogue), weight: 4 }, { arbitrary: segment, weight: 1 }),
            id: fc.oneof({ arbitrary: fc.constant(f.catalogueRuleId), weight: 4 }, { arbitrary: segment, weight: 1 }),
            body: valid.chain(bodies),
            contentType: contentTypes,
            role: fc.constant<Role>('admin'),
          })
          .map(({ segment: code, id, ...req }) => ({
            ...req,
            path: req.method === 'POST' ? `/v1/procedures/${code}/fee-rules` : `/v1/procedures/${code}/fee-rules/${id}`,
          })),
      );
    },
    TIMEOUT,
  );

  it(
    'POST /v1/campaigns',
    async () => {
      const valid = {
        name: 'Chiến dịch 30 ngày',
        agencyCode: AGENCIES.communeA,
        startDate: '2026-11-10',
        days: 30,
        targets: { procedureOnlinePayment: 0.9, procedureIntegration: null, dossierOnlinePayment: 0.7 },
        baseline: { from: '2026-10-01', to: '2026-11-09' },
      };
      await run(
        fc.record({
          method: fc.constant('POST'),
          path: fc.constant('/v1/campaigns'),
          body: bodies(valid),
          contentType: contentTypes,
          role: fc.constant<Role>('admin'),
          headers: fc.constant(null).map(() => ({ 'idempotency-key': idempotencyKey() })),
        }),
        {},
        Math.ceil(RUNS / 2),
      );
    },
    TIMEOUT,
  );

  it(
    'the dashboard: sign-in form, campaign pages by query, the admin campaign form (problem+json to a client that does not take HTML)',
    async () => {
      const field = fc.oneof(
        fc.constantFrom(...specialStrings),
        fc.string({ maxLength: 60 }),
        fc.constant(f.campaign),
        fc.constant(AGENCIES.communeA),
      );
      const encoded = (fields: fc.Arbitrary<Record<string, unknown>>) =>
        fields.map((record) => {
          const params = new URLSearchParams();
          for (const [k, v] of Object.entries(record)) {
            try {
              params.set(k, String(v));
            } catch {
              params.set(k, '');
            }
          }
          return params.toString();
        });
      const admin = await signIn(h, tokens.admin);
      const csrf = csrfOf(await (await openPage(h, '/dashboard/campaigns/new', admin)).text());
      const signInForm = encoded(
        fc.record(
          {
            token: fc.oneof(fc.constant(tokens.campaign), fc.constant(tokens.admin), fc.constant(tokens.portal), field),
            next: fc.oneof(field, fc.constantFrom('/dashboard/campaigns', '//evil.example/', '/dashboard/../v1')),
          },
          { requiredKeys: [] },
        ),
      );
      const query = encoded(
        fc.record(
          {
            campaign: field,
            agency: field,
            procedure: fc.oneof(field, fc.constant(f.procedure)),
            format: fc.oneof(field, fc.constantFrom('csv', 'xlsx')),
          },
          { requiredKeys: [] },
        ),
      );
      const campaignForm = encoded(
        fc.record(
          {
            csrf: fc.oneof({ arbitrary: fc.constant(csrf), weight: 5 }, { arbitrary: field, weight: 1 }),
            key: fc.oneof(
              field,
              fc.constant(null).map(() => idempotencyKey()),
            ),
            name: field,
            agencyCode: fc.oneof(field, fc.constant(AGENCIES.province)),
            startDate: fc.oneof(field, fc.constantFrom('2026-12-01', '2026-02-30')),
            days: fc.oneof(field, fc.constantFrom('30', '0', '367', '1e3')),
            targetDossierOnlinePayment: fc.oneof(field, fc.constantFrom('70', '72,55', '100', '100,01', '-1')),
            targetProcedureIntegration: field,
            baselineFrom: fc.oneof(field, fc.constant('2026-10-01')),
            baselineTo: fc.oneof(field, fc.constant('2026-10-30')),
          },
          { requiredKeys: ['csrf'] },
        ),
      );
      const asJson = { accept: 'application/json' };
      await run(
        fc.oneof(
          fc.record({
            method: fc.constant('POST'),
            path: fc.constant('/dashboard/session'),
            body: fc.oneof({ arbitrary: signInForm, weight: 5 }, { arbitrary: deepText, weight: 1 }),
            contentType: fc.oneof(
              { arbitrary: fc.constant('application/x-www-form-urlencoded'), weight: 5 },
              { arbitrary: contentTypes, weight: 1 },
            ),
            headers: fc.constant(asJson),
          }),
          fc.record({
            method: fc.constant('GET'),
            path: fc.tuple(fc.constantFrom('/dashboard/campaigns', '/dashboard/campaigns/export'), query).map(([p, q]) => `${p}?${q}`),
            headers: fc.constant({ ...asJson, cookie: admin }),
          }),
          fc.record({
            method: fc.constant('POST'),
            path: fc.oneof(
              fc.constant('/dashboard/campaigns/new'),
              segment.map((s) => `/dashboard/campaigns/${s}/edit`),
            ),
            body: campaignForm,
            contentType: fc.constant('application/x-www-form-urlencoded'),
            headers: fc.constant({ ...asJson, cookie: admin }),
          }),
        ),
        {},
        Math.ceil(RUNS / 2),
      );
    },
    TIMEOUT,
  );

  it(
    'POST /v1/payment-intents/{id}/cancel (a body is ignored, not trusted)',
    async () => {
      await run(
        fc.record({
          method: fc.constant('POST'),
          path: fc.oneof(
            fc.constant(`/v1/payment-intents/${f.intent}/cancel`),
            segment.map((s) => `/v1/payment-intents/${s}/cancel`),
          ),
          body: bodies({ reason: 'cancelled' }),
          contentType: contentTypes,
          role: roleOf(['portal', 'admin']),
        }),
        {},
        Math.ceil(RUNS / 3),
      );
    },
    TIMEOUT,
  );
});

describe('fuzz: paths and queries', () => {
  it(
    'GET routes with arbitrary {code}, {id} and query strings',
    async () => {
      const templates: Array<[string, readonly Role[]]> = [
        ['/v1/dossiers/:s', ['portal', 'treasury', 'admin']],
        ['/v1/payment-intents/:s', ['portal', 'treasury', 'admin']],
        ['/v1/payment-intents/:s/receipt', ['portal', 'treasury', 'admin']],
        ['/v1/procedures/:s', ['portal', 'treasury', 'campaign', 'admin']],
        ['/v1/procedures', ['portal', 'treasury', 'campaign', 'admin']],
        ['/v1/agencies', ['portal', 'treasury', 'campaign', 'admin']],
        ['/v1/:s', ['admin']],
        ['/v1/:s/:s', ['admin']],
      ];
      const query = fc.oneof(
        fc.constant(''),
        fc.string({ unit: 'binary', maxLength: 40 }).map((s) => {
          try {
            return `?field=${encodeURIComponent(s)}`;
          } catch {
            return '?field=%ED%A0%80';
          }
        }),
        fc.constantFrom('?field=%00', '?field=%zz', `?field=${'x'.repeat(300)}`, '?field=a&field=b', '?%00=1', '?field'),
      );
      await run(
        fc
          .record({
            template: fc.constantFrom(...templates),
            segment,
            query,
            accept: fc.constantFrom('application/json', 'text/html', '*/*', 'text/html;q=0.1, application/json'),
          })
          .chain(({ template: [template, roles], segment: s, query: q, accept }) =>
            roleOf(roles).map((role) => ({
              method: 'GET',
              path: template.replaceAll(':s', s) + q,
              role,
              headers: { accept },
            })),
          ),
        {},
        RUNS * 2,
      );
    },
    TIMEOUT,
  );

  it(
    'GET indicator and campaign routes with arbitrary periods, agencies, targets and formats',
    async () => {
      const value = fc.oneof(
        fc.constantFrom(...specialStrings),
        fc.constantFrom(
          '2026-11-01',
          '2026-11-30',
          '2026-02-29',
          '1899-12-31',
          '2026-13-01',
          'month',
          'quarter',
          'half',
          'nine-months',
          'year',
          '0',
          '12',
          '2026',
          '-1',
          '1.5',
          'csv',
          'xlsx',
          'units',
          'daily',
          'agency',
          'procedure',
          f.procedure,
        ),
        fc.integer({ min: -10, max: 100_000 }).map(String),
      );
      const params = fc
        .dictionary(
          fc.constantFrom('agency', 'from', 'to', 'period', 'year', 'index', 'target', 'by', 'procedure', 'format', 'sheet', 'x'),
          value,
          { maxKeys: 7 },
        )
        .map((d) => {
          const q = new URLSearchParams();
          for (const [k, v] of Object.entries(d)) {
            try {
              q.set(k, v);
            } catch {
              q.set(k, '');
            }
          }
          return `?${q.toString()}`;
        });
      await run(
        fc
          .record({
            path: fc.constantFrom(
              '/v1/indicators/online-payment',
              '/v1/indicators/online-payment/breakdown',
              '/v1/indicators/online-payment/actions',
              `/v1/campaigns/${f.campaign}/progress`,
              `/v1/campaigns/${f.campaign}/export`,
              `/v1/campaigns/${f.campaign}`,
              `/v1/dossiers/${f.dossier}/dvcqg-sync`,
            ),
            query: params,
            role: roleOf(['campaign', 'admin']),
          })
          .map(({ path, query, role }) => ({ method: 'GET', path: path + query, role })),
        {},
        RUNS * 2,
      );
    },
    TIMEOUT,
  );

  it(
    'the receipt in HTML and JSON, and GET of known resources, for every reading role',
    async () => {
      await run(
        fc.record({
          method: fc.constant('GET'),
          path: fc.constantFrom(
            `/v1/payment-intents/${f.paidIntent}/receipt`,
            `/v1/payment-intents/${f.intent}`,
            `/v1/dossiers/${f.dossier}`,
          ),
          role: roleOf(['portal', 'treasury', 'admin']),
          headers: fc
            .constantFrom('text/html', 'application/json', 'text/html, application/json;q=0.5', 'image/png')
            .map((accept) => ({ accept })),
        }),
        {},
        Math.ceil(RUNS / 5),
      );
    },
    TIMEOUT,
  );
});

interface CallbackRequest {
  method: 'GET' | 'POST';
  gateway: string;
  query: string;
  body: string;
  contentType?: string;
  signing: 'current' | 'rotated' | 'none' | 'garbage' | 'stale';
  garbage: string;
}

/** Signs the raw body the way the sandbox does (or not), then checks the answer. */
async function checkCallback(req: CallbackRequest) {
  const t = Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = {};
  if (req.signing === 'current' || req.signing === 'rotated' || req.signing === 'stale') {
    const secret = req.signing === 'rotated' ? SANDBOX_SECRETS[1]! : SANDBOX_SECRETS[0]!;
    headers['sandbox-signature'] = await signatureHeader(
      secret,
      req.signing === 'stale' ? t - 3600 : t,
      req.method === 'GET' ? '' : req.body,
    );
  } else if (req.signing === 'garbage') {
    headers['sandbox-signature'] = req.garbage;
  }
  await check(
    {
      method: req.method,
      path: `/v1/callbacks/${req.gateway}${req.query}`,
      body: req.method === 'GET' ? undefined : req.body,
      contentType: req.contentType,
      headers,
    },
    { gatewayAnswers: true },
  );
}

describe('fuzz: callbacks', () => {
  const validEvent = () => ({
    type: fc.sample(fc.constantFrom('payment.succeeded', 'payment.declined'), 1)[0],
    reference: f.intentReference,
    transactionId: 'SBX-FUZZ-1',
    amount: f.intentAmount,
    currency: 'VND',
    occurredAt: new Date().toISOString(),
  });

  it(
    'GET and POST /v1/callbacks/{gateway}: arbitrary bodies, signed with either secret, stale, unsigned or garbage',
    async () => {
      const request: fc.Arbitrary<CallbackRequest> = fc.record({
        method: fc.oneof({ arbitrary: fc.constant<'POST'>('POST'), weight: 8 }, { arbitrary: fc.constant<'GET'>('GET'), weight: 1 }),
        gateway: fc.oneof({ arbitrary: fc.constant('sandbox'), weight: 8 }, { arbitrary: segment, weight: 1 }),
        query: fc.oneof(fc.constant(''), fc.constantFrom('?a=1', '?vnp_TxnRef=HP0000000000&vnp_SecureHash=00', '?%00=%zz')),
        body: fc
          .constant(null)
          .chain(() => bodies(validEvent()))
          .map((b) => b ?? ''),
        contentType: contentTypes,
        signing: fc.constantFrom('current', 'rotated', 'none', 'garbage', 'stale'),
        garbage: fc.stringMatching(/^[\x20-\x7e]{0,200}$/),
      });
      await fc.assert(fc.asyncProperty(request, checkCallback), { numRuns: RUNS, interruptAfterTimeLimit: TIMEOUT - 20_000 });
    },
    TIMEOUT,
  );
});

// ---------------------------------------------------------------------------------------------
// Schema-valid extremes: every value passes the schemas, so every run reaches the services.

const amount = fc.oneof(fc.integer({ min: 0, max: 10_000_000 }), fc.maxSafeNat(), fc.constantFrom(0, Number.MAX_SAFE_INTEGER));
const percentText = fc
  .tuple(fc.integer({ min: 0, max: 100 }), fc.option(fc.integer({ min: 0, max: 999_999 }), { nil: undefined }))
  .map(([whole, fraction]) => (whole === 100 || fraction === undefined ? String(whole) : `${whole}.${String(fraction).padStart(6, '0')}`));
const businessDate = fc
  .date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2035-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10));
const category = fc.constantFrom('student', 'poor_household', 'merit', 'child');

const formula = fc.oneof(
  fc.constant({ type: 'exempt' }),
  amount.map((a) => ({ type: 'fixed', amount: a })),
  fc
    .record({
      unit: fc.constantFrom('trang', 'bản', 'm²'),
      tiers: fc
        .uniqueArray(fc.integer({ min: 2, max: 100_000 }), { maxLength: 3 })
        .chain((starts) =>
          fc.tuple(...[1, ...starts.sort((a, b) => a - b)].map((fromUnit) => amount.map((unitAmount) => ({ fromUnit, unitAmount })))),
        ),
      cap: fc.option(amount, { nil: undefined }),
    })
    .map((f) => ({ type: 'per_unit', ...f })),
  fc
    .record({ rate: percentText, minimum: fc.option(amount, { nil: undefined }), maximum: fc.option(amount, { nil: undefined }) })
    .map(({ rate, minimum, maximum }) => {
      const [lo, hi] = minimum !== undefined && maximum !== undefined && minimum > maximum ? [maximum, minimum] : [minimum, maximum];
      return { type: 'percentage', rate, minimum: lo, maximum: hi };
    }),
  fc
    .record({
      input: fc.constantFrom('quantity', 'declaredValue'),
      bounds: fc.uniqueArray(fc.integer({ min: 1, max: 1_000_000_000 }), { maxLength: 3 }),
      amounts: fc.array(amount, { minLength: 4, maxLength: 4 }),
    })
    .map(({ input, bounds, amounts }) => ({
      type: 'table',
      input,
      rows: [...bounds.sort((a, b) => a - b).map((below, i) => ({ below, amount: amounts[i]! })), { amount: amounts[3]! }],
    })),
);

const adjustment = fc.record(
  {
    label: fc.constantFrom('Nộp trực tuyến', 'Miễn', 'Giảm 50%'),
    channels: fc.uniqueArray(fc.constantFrom('online', 'direct', 'postal'), { minLength: 1, maxLength: 3 }),
    payerCategories: fc.uniqueArray(category, { minLength: 1, maxLength: 2 }),
    from: businessDate,
    effect: fc.oneof(
      fc.constant({ type: 'exempt' }),
      amount.map((a) => ({ type: 'amount', amount: a })),
      percentText.map((percent) => ({ type: 'percent_of_base', percent })),
    ),
  },
  { requiredKeys: ['label', 'effect'] },
);

const feeRule = fc.record({
  kind: fc.constantFrom('phi', 'le_phi'),
  feeCode: fc.constantFrom('LP01', 'P02', 'X'),
  name: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).filter((s) => s.trim().length > 0),
  formula,
  adjustments: fc.array(adjustment, { maxLength: 2 }),
  rounding: fc.record({ mode: fc.constantFrom('half_up', 'down', 'up'), unit: fc.constantFrom(1, 10, 100, 1000) }),
  validFrom: fc.constantFrom('2000-01-01', '2026-01-01'),
  legalBasis: fc.constant('Thông tư thử nghiệm'),
});

const dossierInputs = fc.record({
  channel: fc.constantFrom('online', 'direct', 'postal'),
  receivedAt: fc
    .date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true })
    .map((d) => d.toISOString()),
  declaredValue: fc.option(amount, { nil: null }),
  quantity: fc.option(fc.integer({ min: 1, max: 100_000 }), { nil: null }),
  payerCategory: fc.option(category, { nil: null }),
  applicant: fc.option(
    fc.record({ name: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }).filter((s) => s.trim().length > 0) }),
    { nil: null },
  ),
});

let procedureSeq = 0;

describe('fuzz: schema-valid extremes', () => {
  it(
    'random valid fee rules, then a dossier and a payment intent under them: never a 5xx',
    async () => {
      const property = fc.asyncProperty(fc.array(feeRule, { minLength: 1, maxLength: 3 }), dossierInputs, async (rules, inputs) => {
        const code = `7.${String(++procedureSeq).padStart(6, '0')}`;
        await check({
          method: 'PUT',
          path: `/v1/procedures/${code}`,
          role: 'admin',
          contentType: 'application/json',
          body: JSON.stringify({ name: 'Fuzz', field: 'Fuzz', level: 'tỉnh' }),
        });
        for (const [i, r] of rules.entries()) {
          await check({
            method: 'POST',
            path: `/v1/procedures/${code}/fee-rules`,
            role: 'admin',
            contentType: 'application/json',
            body: JSON.stringify({ ...r, lineNo: i + 1 }),
          });
        }
        await check({ method: 'GET', path: `/v1/procedures/${code}`, role: 'campaign' });
        const dossierCode = uniqueDossierCode();
        await check({
          method: 'PUT',
          path: `/v1/dossiers/${dossierCode}`,
          role: 'portal',
          contentType: 'application/json',
          body: JSON.stringify({ procedureCode: code, agencyCode: AGENCIES.communeA, ...inputs }),
        });
        await check({
          method: 'POST',
          path: '/v1/payment-intents',
          role: 'portal',
          contentType: 'application/json',
          headers: { 'idempotency-key': idempotencyKey() },
          body: JSON.stringify({ dossierCode, gateway: 'sandbox', returnUrl: 'https://dichvucong.dongnai.gov.vn/ket-qua' }),
        });
      });
      await fc.assert(property, { numRuns: Math.ceil(RUNS / 2), interruptAfterTimeLimit: TIMEOUT - 20_000 });
    },
    TIMEOUT,
  );

  it(
    'signed, well-formed callbacks and cancels in random order: never a 5xx, never two receipts',
    async () => {
      const action = fc.oneof(
        fc.record({
          kind: fc.constant('callback' as const),
          type: fc.constantFrom('payment.succeeded', 'payment.declined'),
          amountDelta: fc.oneof(
            { arbitrary: fc.constant(0), weight: 4 },
            { arbitrary: fc.integer({ min: -1_000, max: 1_000 }), weight: 1 },
          ),
          transactionId: fc.constantFrom('SBX-A', 'SBX-B'),
          secret: fc.constantFrom(0, 1),
        }),
        fc.constant({ kind: 'cancel' as const }),
        fc.constant({ kind: 'receipt' as const }),
      );
      const property = fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 6 }), async (actions) => {
        const dossier = await registerDossier(h, tokens.portal, f.procedure, { declaredValue: 1_000_000, quantity: 2 });
        const intent = await (await createIntent(h, tokens.portal, dossier.code)).json();
        for (const a of actions) {
          if (a.kind === 'cancel') await check({ method: 'POST', path: `/v1/payment-intents/${intent.id}/cancel`, role: 'portal' });
          else if (a.kind === 'receipt') await check({ method: 'GET', path: `/v1/payment-intents/${intent.id}/receipt`, role: 'treasury' });
          else {
            const raw = JSON.stringify({
              type: a.type,
              reference: intent.reference,
              transactionId: a.transactionId,
              amount: Math.max(0, intent.amount + a.amountDelta),
              currency: 'VND',
              occurredAt: new Date().toISOString(),
            });
            await checkCallback({
              method: 'POST',
              gateway: 'sandbox',
              query: '',
              body: raw,
              contentType: 'application/json',
              signing: a.secret ? 'rotated' : 'current',
              garbage: '',
            });
          }
        }
        const read = await (await h.request('GET', `/v1/dossiers/${dossier.code}`, { token: tokens.portal })).json();
        const paid = read.obligations.filter((o: { status: string }) => o.status === 'paid').length;
        expect([0, read.obligations.length]).toContain(paid);
        const view = await (await h.request('GET', `/v1/payment-intents/${intent.id}`, { token: tokens.portal })).json();
        // Paid obligations belong to a succeeded intent, and only then; one receipt at most.
        expect(paid > 0).toBe(view.status === 'succeeded');
        const issued = await h.db.db.select({ n: count() }).from(receipts).where(eq(receipts.intentId, intent.id));
        expect(issued[0]!.n).toBe(view.status === 'succeeded' ? 1 : 0);
      });
      await fc.assert(property, { numRuns: Math.ceil(RUNS / 3), interruptAfterTimeLimit: TIMEOUT - 20_000 });
    },
    TIMEOUT,
  );
});
