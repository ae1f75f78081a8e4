/**
 * The hub as `npm run bench` measures it: src/node/hub.ts's runHub, the same composition
 * `npm start`'s worker runs (configuration from the environment, the breaker, the jobs, the
 * delivery worker), in a process of its own, with the benchmark's routes beside it under /bench:
 *
 * - `GET /bench/bare` — the first baseline: a bare Hono route, no database;
 * - `POST /bench/insert` — the second: one INSERT through postgres.js (on PGlite, through the
 *   embedded database: there is no postgres.js there), the JSON body parsed, no token, no
 *   validation library;
 * - `POST /bench/prepare` — data for the next measurement, made in SQL so it neither takes long nor
 *   shows in a profile: fresh dossiers with one unpaid fee line each (for create-intent), or
 *   pending VNPay intents on them (for the IPNs), over 1 or more collecting agencies;
 * - `GET /bench/receipts` — how long after its payment each receipt of the VNPay intents was
 *   issued (payment_events' created_at to receipts' issued_at, both the hub's clock).
 *
 * Started by scripts/bench.ts with PORT, JWT_SECRET, VNPAY_* and DATABASE_URL or DATA_DIR set.
 */
import { sql } from 'drizzle-orm';
import { Hono } from 'hono';
import postgres from 'postgres';
import type { DatabaseHandle } from '../src/db/types.ts';
import { queryRows } from '../src/db/types.ts';
import { serviceContext } from '../src/deps.ts';
import type { AppDeps } from '../src/http/env.ts';
import { runHub } from '../src/node/hub.ts';
import { addFeeRule, upsertAgency } from '../src/services/catalogue.ts';
import { BENCH_COMMUNE, BENCH_PROCEDURE, BENCH_PROVINCE, putBenchProcedure } from './bench-catalogue.ts';

const COMMUNE = BENCH_COMMUNE;
const PROCEDURE = BENCH_PROCEDURE;
const AMOUNT = 135_000;

/** The agencies the IPN runs spread their dossiers over: the commune, then `000.4k.32.H19`. */
const agencyCode = (k: number) => (k === 0 ? COMMUNE : `000.${String(40 + k).padStart(2, '0')}.32.H19`);

function benchRoutes(deps: AppDeps, handle: DatabaseHandle): Hono {
  const routes = new Hono();
  const url = process.env.DATABASE_URL;
  const client = url ? postgres(url, { max: Number(process.env.DATABASE_POOL_MAX ?? 10), onnotice: () => {} }) : null;
  const ctx = serviceContext(deps);
  let feeRuleId: string | null = null;
  let batches = 0;

  routes.get('/bench/bare', (c) => c.json({ ok: true }));
  routes.post('/bench/insert', async (c) => {
    const body = await c.req.json();
    const id = crypto.randomUUID();
    if (client) await client`INSERT INTO bench_rows (id, body) VALUES (${id}, ${client.json(body)})`;
    else await handle.db.execute(sql`INSERT INTO bench_rows (id, body) VALUES (${id}, ${JSON.stringify(body)}::jsonb)`);
    return c.json({ ok: true }, 201);
  });

  /** The catalogue the dossiers need, once: a province, its agencies, a procedure with one fixed fee. */
  const catalogue = async (agencies: number) => {
    await handle.db.execute(
      sql`CREATE TABLE IF NOT EXISTS bench_rows (id uuid PRIMARY KEY, body jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`,
    );
    await upsertAgency(ctx, { code: BENCH_PROVINCE, name: 'UBND tỉnh Đồng Nai', level: 'province', parentCode: null });
    for (let k = 0; k < agencies; k++) {
      await upsertAgency(ctx, {
        code: agencyCode(k),
        name: k === 0 ? 'UBND phường Trấn Biên' : `UBND xã thử nghiệm ${k}`,
        level: 'commune',
        parentCode: BENCH_PROVINCE,
      });
    }
    if (feeRuleId) return feeRuleId;
    await putBenchProcedure(ctx);
    const rule = await addFeeRule(ctx, PROCEDURE, {
      kind: 'le_phi',
      feeCode: 'LPGPLX',
      name: 'Lệ phí đổi giấy phép lái xe',
      lineNo: 1,
      formula: { type: 'fixed', amount: AMOUNT },
      adjustments: [],
      rounding: { mode: 'half_up', unit: 1 },
      validFrom: '2026-01-01',
      validTo: null,
      legalBasis: 'Thông tư 37/2023/TT-BTC',
      collectionAccount: null,
      setByProvince: false,
    });
    feeRuleId = rule.id;
    return rule.id;
  };

  routes.post('/bench/prepare', async (c) => {
    const { kind, count, agencies = 1 } = (await c.req.json()) as { kind: 'dossiers' | 'vnpay-intents'; count: number; agencies?: number };
    const rule = await catalogue(agencies);
    const batch = ++batches;
    // Codes unique per batch (the batch and the ten-thousand in the code's date, the rest in its 4-digit sequence).
    // Received over a thousand days: the 766 roll-up row of one day is updated by each dossier
    // of that day in this one transaction, and a row updated 80,000 times in one transaction
    // makes every next update walk its versions (minutes instead of seconds).
    const codes = await queryRows<{ code: string }>(
      handle.db,
      sql`
      WITH made AS (
        INSERT INTO dossiers (code, procedure_code, agency_code, channel, received_at, received_date)
        SELECT CASE n % ${agencies}::int WHEN 0 THEN ${COMMUNE} ELSE '000.' || lpad((40 + n % ${agencies}::int)::text, 2, '0') || '.32.H19' END
                 || '-' || lpad(${batch}::text, 3, '0') || lpad((n / 10000)::text, 3, '0') || '-' || lpad((n % 10000)::text, 4, '0'),
               ${PROCEDURE},
               CASE n % ${agencies}::int WHEN 0 THEN ${COMMUNE} ELSE '000.' || lpad((40 + n % ${agencies}::int)::text, 2, '0') || '.32.H19' END,
               'online', now(), DATE '2026-11-22' - (n % 1000)
        FROM generate_series(0, ${count - 1}::int) AS n
        RETURNING code
      ), lines AS (
        INSERT INTO obligations (id, dossier_code, fee_rule_id, line_no, kind, fee_code, name, amount, status)
        SELECT gen_random_uuid(), code, ${rule}::uuid, 1, 'le_phi', 'LPGPLX', 'Lệ phí đổi giấy phép lái xe', ${AMOUNT}, 'unpaid' FROM made
      )
      SELECT code FROM made ORDER BY code`,
    );
    if (kind === 'dossiers') return c.json({ codes: codes.map((r) => r.code) });
    const intents = await queryRows<{ reference: string }>(
      handle.db,
      sql`
      WITH intent AS (
        INSERT INTO payment_intents (id, reference, dossier_code, gateway, amount, currency, status, return_url, expires_at,
                                     online_payment_flag, principal, created_at, updated_at)
        SELECT gen_random_uuid(), 'HB' || lpad(${batch}::text, 3, '0') || lpad(n::text, 8, '0'), code, 'vnpay', ${AMOUNT}, 'VND', 'pending',
               'https://dichvucong.dongnai.gov.vn/ket-qua', now() + interval '1 day', 2, 'portal:bench', now(), now()
        FROM (SELECT code, row_number() OVER (ORDER BY code) AS n FROM dossiers WHERE code IN (SELECT jsonb_array_elements_text(${JSON.stringify(codes.map((r) => r.code))}::jsonb))) d
        RETURNING id, dossier_code, reference
      ), held AS (
        UPDATE obligations o SET live_intent_id = intent.id FROM intent WHERE o.dossier_code = intent.dossier_code
        RETURNING o.id AS obligation_id, intent.id AS intent_id, o.amount
      ), links AS (
        INSERT INTO intent_obligations (intent_id, obligation_id, amount) SELECT intent_id, obligation_id, amount FROM held
      )
      SELECT reference FROM intent ORDER BY reference`,
    );
    return c.json({ intents: intents.map((r) => ({ reference: r.reference, amount: AMOUNT })) });
  });

  routes.get('/bench/receipts', async (c) => {
    const [row] = await queryRows<{ paid: number; issued: number; p50: number | null; p99: number | null; max: number | null }>(
      handle.db,
      sql`
      WITH paid AS (
        SELECT i.id, e.created_at AS paid_at FROM payment_intents i
        JOIN payment_events e ON e.intent_id = i.id AND e.event = 'payment_succeeded'
        WHERE i.gateway = 'vnpay' AND i.status = 'succeeded'
      ), lag AS (
        SELECT extract(epoch FROM r.issued_at - paid.paid_at) * 1000 AS ms FROM paid JOIN receipts r ON r.intent_id = paid.id
      )
      SELECT (SELECT count(*) FROM paid)::int AS paid, (SELECT count(*) FROM lag)::int AS issued,
             percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50, percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99,
             max(ms) AS max
      FROM lag`,
    );
    return c.json(row);
  });
  return routes;
}

runHub({ before: benchRoutes }).catch((error) => {
  console.error(error);
  process.exit(1);
});
