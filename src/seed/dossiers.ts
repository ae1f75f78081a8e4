import { and, inArray, sql } from 'drizzle-orm';
import { dossiers } from '../db/schema/index.ts';
import type { Executor } from '../db/types.ts';
import { addDays, vnDate, vnDayStart } from '../domain/dates.ts';
import type { Channel, VehicleRegistration } from '../domain/fees.ts';
import { applyOutcome, type Outcome } from '../services/apply-outcome.ts';
import { executor, type ServiceContext } from '../services/context.ts';
import { putDossier } from '../services/dossiers.ts';
import { createPaymentIntent, type PaymentIntentView } from '../services/payment-intents.ts';
import type { Principal } from '../services/principal.ts';
import { issueWaitingReceipts } from '../services/receipt-issuer.ts';
import { AGENCY, COMMUNE_NAMES, CURRENT_COMMUNES } from './agencies.ts';
import { DEMO_PROCEDURES, PAYER_CATEGORIES as P } from './procedures.ts';

/**
 * Demo dossiers: a plan drawn from a seeded pseudo-random generator (the same `now` and seed
 * give the same plan), then registered and paid through the real service paths (putDossier,
 * createPaymentIntent, applyOutcome), each with a clock set to the moment it happens.
 *
 * Applicants are fictional: common Vietnamese names and made-up street addresses; no identity
 * numbers are generated at all (Decree 13/2023: the hub does not need them for a dossier).
 */

export const SEED_PRINCIPAL: Principal = { subject: 'seed', role: 'admin', agencies: [] };
const RETURN_URL = 'https://dichvucong.dongnai.gov.vn/thanh-toan/ket-qua';
/** How far back the demo reaches: the 30-day campaign window and the 30 days before it. */
const DEMO_DAYS = 60;
/**
 * The demo's 30-day campaign started this many days before "now" (so the dashboard opens on a
 * campaign three weeks in, with its 30-day baseline wholly inside the demo's dossiers).
 */
export const DEMO_CAMPAIGN_STARTED_DAYS_AGO = 21;
/** How much more likely a payer is to pay online by the campaign's last day (ramping up from 1). */
const CAMPAIGN_LIFT = 1.45;

// ── Deterministic randomness ────────────────────────────────────────────────────────────

/** mulberry32: a tiny, well-mixed 32-bit generator; plenty for demo data, never for secrets. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

class Random {
  constructor(readonly next: () => number) {}
  chance(p: number): boolean {
    return this.next() < p;
  }
  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  weighted<T extends string>(weights: Partial<Record<T, number>>): T {
    const entries = Object.entries(weights) as Array<[T, number]>;
    let r = this.next() * entries.reduce((sum, [, w]) => sum + w, 0);
    for (const [value, w] of entries) {
      r -= w;
      if (r < 0) return value;
    }
    return entries.at(-1)![0];
  }
  /** A round amount between min and max, roughly log-uniform (values cluster low, as prices do). */
  amount(min: number, max: number, step: number): number {
    const value = Math.exp(Math.log(min) + this.next() * (Math.log(max) - Math.log(min)));
    return Math.max(min, Math.round(value / step) * step);
  }
}

// ── Who files what, where ───────────────────────────────────────────────────────────────

interface FeeInputs {
  quantity?: number;
  declaredValue?: number;
  payerCategory?: string;
  vehicleRegistration?: VehicleRegistration;
  urbanArea?: boolean;
}

/** A vehicle's lệ phí trước bạ inputs: mostly first registrations, a little over half of them in a city or town. */
const vehicle = (r: Random): FeeInputs => ({ vehicleRegistration: r.chance(0.65) ? 'first' : 'later', urbanArea: r.chance(0.55) });

interface Demand {
  /** Relative volume of dossiers. */
  weight: number;
  /** Receiving agencies; 'communes' means today's communes and wards. */
  agencies: readonly string[] | 'communes';
  channels: Partial<Record<Channel, number>>;
  inputs?: (r: Random) => FeeInputs;
  applicant?: 'person' | 'eatery';
}

const USUAL: Partial<Record<Channel, number>> = { online: 70, direct: 27, postal: 3 };
const IN_PERSON: Partial<Record<Channel, number>> = { direct: 1 };

/** Volumes loosely follow what a province's one-stop shops see: residence, ID and copies lead. */
const DEMAND: Record<string, Demand> = {
  '1.001193': { weight: 6, agencies: 'communes', channels: { online: 80, direct: 20 } },
  '1.000894': { weight: 3, agencies: 'communes', channels: { online: 40, direct: 60 } },
  '1.000656': {
    weight: 3,
    agencies: 'communes',
    channels: { online: 50, direct: 50 },
    inputs: (r) => (r.chance(0.3) ? { payerCategory: P.lateRegistration } : r.chance(0.05) ? { payerCategory: P.poorHousehold } : {}),
  },
  '2.000815': {
    weight: 12,
    agencies: 'communes',
    channels: IN_PERSON,
    inputs: (r) => {
      const kind = r.weighted({ short: 70, medium: 25, long: 4, huge: 1 });
      const pages = kind === 'short' ? r.int(1, 4) : kind === 'medium' ? r.int(5, 20) : kind === 'long' ? r.int(21, 120) : r.int(200, 320);
      return { quantity: pages };
    },
  },
  '2.000884': { weight: 4, agencies: 'communes', channels: IN_PERSON },
  '3.000333': {
    weight: 8,
    agencies: [AGENCY.recordsPolice],
    channels: { online: 75, direct: 20, postal: 5 },
    inputs: (r) => {
      const category = r.weighted({ none: 73, student: 18, merit: 3, elderly: 3, disabled: 1, poor: 1, child: 1 });
      const map: Record<string, string | undefined> = {
        student: P.student,
        merit: P.merit,
        elderly: P.elderly,
        disabled: P.disabled,
        poor: P.poorHousehold,
        child: P.child,
      };
      return map[category] ? { payerCategory: map[category] } : {};
    },
  },
  '3.000347': { weight: 10, agencies: [AGENCY.trafficPolice], channels: USUAL },
  '1.001456': {
    weight: 6,
    agencies: [AGENCY.immigration],
    channels: USUAL,
    inputs: (r) => (r.chance(0.08) ? { payerCategory: P.lostOrDamaged } : {}),
  },
  '2.001195': { weight: 8, agencies: [AGENCY.residencePolice], channels: USUAL },
  '1.004222': { weight: 8, agencies: 'communes', channels: USUAL },
  '1.004194': { weight: 8, agencies: 'communes', channels: USUAL },
  '1.001612': { weight: 4, agencies: 'communes', channels: USUAL },
  '2.001610': { weight: 2, agencies: [AGENCY.finance], channels: { online: 85, direct: 15 } },
  '1.013225': { weight: 3, agencies: 'communes', channels: { online: 40, direct: 60 } },
  '1.013831': {
    weight: 5,
    agencies: [AGENCY.landRegistry],
    channels: { online: 35, direct: 60, postal: 5 },
    inputs: (r) => ({ declaredValue: r.amount(400_000_000, 9_000_000_000, 1_000_000) }),
  },
  '9.000001': {
    weight: 3,
    agencies: [AGENCY.tax],
    channels: USUAL,
    inputs: (r) => ({ declaredValue: r.amount(18_000_000, 95_000_000, 100_000), ...vehicle(r) }),
  },
  '9.000002': {
    weight: 2,
    agencies: [AGENCY.tax],
    channels: USUAL,
    inputs: (r) => ({ declaredValue: r.amount(420_000_000, 1_800_000_000, 1_000_000), ...vehicle(r) }),
  },
  '1.000377': {
    weight: 4,
    agencies: [AGENCY.trafficPolice],
    channels: USUAL,
    inputs: (r) => ({ declaredValue: r.amount(12_000_000, 95_000_000, 100_000) }),
  },
  '1.013855': {
    weight: 2,
    agencies: [AGENCY.health, AGENCY.health, AGENCY.health, AGENCY.tranBien, AGENCY.longKhanh],
    channels: USUAL,
    inputs: (r) => ({ quantity: r.chance(0.3) ? r.int(200, 600) : r.int(30, 199) }),
    applicant: 'eatery',
  },
};

/**
 * Who receives which procedure, and how often, as (agency, procedure, share) with the shares
 * adding up to 1: the demo's volumes, for tools that make dossiers in bulk (the benchmark).
 */
export function receivingShares(): Array<{ agencyCode: string; procedureCode: string; share: number }> {
  const total = Object.values(DEMAND).reduce((sum, d) => sum + d.weight, 0);
  return Object.entries(DEMAND)
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([procedureCode, d]) => {
      const receivers = d.agencies === 'communes' ? CURRENT_COMMUNES : d.agencies;
      return receivers.map((agencyCode) => ({ agencyCode, procedureCode, share: d.weight / total / receivers.length }));
    });
}

// ── Applicants ──────────────────────────────────────────────────────────────────────────

const FAMILY = [
  'Nguyễn',
  'Nguyễn',
  'Nguyễn',
  'Trần',
  'Trần',
  'Lê',
  'Lê',
  'Phạm',
  'Hoàng',
  'Huỳnh',
  'Phan',
  'Vũ',
  'Võ',
  'Đặng',
  'Bùi',
  'Đỗ',
  'Hồ',
  'Ngô',
  'Dương',
  'Lý',
];
const MIDDLE_M = ['Văn', 'Hữu', 'Minh', 'Đức', 'Quốc', 'Thanh', 'Hoàng', 'Công', 'Gia', 'Tấn'];
const MIDDLE_F = ['Thị', 'Thị', 'Ngọc', 'Thu', 'Thanh', 'Mỹ', 'Kim', 'Hoài', 'Bảo', 'Khánh'];
const GIVEN_M = [
  'An',
  'Bình',
  'Cường',
  'Dũng',
  'Hải',
  'Hiếu',
  'Hùng',
  'Khang',
  'Khoa',
  'Long',
  'Nam',
  'Phát',
  'Phúc',
  'Quân',
  'Sơn',
  'Tài',
  'Thắng',
  'Tuấn',
  'Việt',
  'Vinh',
];
const GIVEN_F = [
  'Anh',
  'Chi',
  'Diệp',
  'Dung',
  'Hà',
  'Hạnh',
  'Hằng',
  'Hương',
  'Lan',
  'Linh',
  'Mai',
  'Ngân',
  'Nhung',
  'Oanh',
  'Phương',
  'Quyên',
  'Thảo',
  'Trang',
  'Vy',
  'Yến',
];
const STREETS = [
  'Phạm Văn Thuận',
  'Võ Thị Sáu',
  'Đồng Khởi',
  'Nguyễn Ái Quốc',
  'Hà Huy Giáp',
  'Bùi Văn Hòa',
  'Huỳnh Văn Nghệ',
  'Nguyễn Văn Trị',
  'Cách Mạng Tháng Tám',
  'Hùng Vương',
  'Lê Duẩn',
  'Tôn Đức Thắng',
  'Trần Phú',
  'Phú Riềng Đỏ',
  'Quốc lộ 1A',
  'Quốc lộ 51',
  'Quốc lộ 14',
  'Hoàng Minh Chánh',
];
const EATERY_KIND = ['Nhà hàng', 'Quán cơm', 'Bếp ăn tập thể Công ty TNHH', 'Căng tin Trường', 'Nhà hàng tiệc cưới'];
const EATERY_NAME = [
  'Hương Quê',
  'Phú Lộc',
  'Sông Đồng Nai',
  'Bình An',
  'Tân Phong',
  'Mai Anh',
  'Hòa Bình',
  'Đông Phương',
  'Thanh Xuân',
  'Gia Nguyễn',
];

function personName(r: Random): string {
  const female = r.chance(0.5);
  return `${r.pick(FAMILY)} ${r.pick(female ? MIDDLE_F : MIDDLE_M)} ${r.pick(female ? GIVEN_F : GIVEN_M)}`;
}

function address(r: Random, commune: string): string {
  const name = COMMUNE_NAMES[commune] ?? 'phường Trấn Biên';
  const quarter = name.startsWith('xã') ? `ấp ${r.int(1, 9)}` : `khu phố ${r.int(1, 12)}`;
  return `${r.int(1, 450)} ${r.pick(STREETS)}, ${quarter}, ${name}, tỉnh Đồng Nai`;
}

// ── The plan ────────────────────────────────────────────────────────────────────────────

type AttemptOutcome = 'succeeded' | 'expired' | 'cancelled' | 'failed';

interface PlannedAttempt {
  /** When the payer starts paying (the intent is created). */
  startAt: Date;
  /** When the outcome is known (gateway answer, cancellation, or the expiry job). */
  settleAt: Date;
  outcome: AttemptOutcome;
}

export interface PlannedDossier {
  procedureCode: string;
  agencyCode: string;
  channel: Channel;
  receivedAt: Date;
  applicant: { name: string; address: string };
  declaredValue: number | null;
  quantity: number | null;
  payerCategory: string | null;
  vehicleRegistration: VehicleRegistration | null;
  urbanArea: boolean | null;
  /** Online payment attempts, in order; empty when the payer does not pay online. */
  attempts: PlannedAttempt[];
}

export interface PlanOptions {
  count: number;
  now: Date;
  seed: number;
  intentTtlMinutes: number;
}

const MINUTE = 60_000;

/** Business days (Monday to Friday, Vietnamese dates) of the `DEMO_DAYS` days before `now`'s date. */
function businessDays(now: Date): string[] {
  const today = vnDate(now);
  const days: string[] = [];
  for (let back = DEMO_DAYS; back >= 1; back--) {
    const date = addDays(today, -back);
    const weekday = new Date(`${date}T00:00:00Z`).getUTCDay();
    if (weekday !== 0 && weekday !== 6) days.push(date);
  }
  return days;
}

/** A receipt time inside one-stop-shop hours: 07:30–11:30 and 13:30–17:00, Vietnamese time. */
function receiptTime(r: Random, date: string): Date {
  const minuteOfDay = r.chance(0.6) ? r.int(7 * 60 + 30, 11 * 60 + 29) : r.int(13 * 60 + 30, 16 * 60 + 59);
  return new Date(vnDayStart(date).getTime() + minuteOfDay * MINUTE + r.int(0, 59) * 1000);
}

/**
 * How a payer who means to pay online gets there: mostly at the first try, sometimes after an
 * abandoned checkout that expired, a cancellation or a declined card. Payers who do not pay
 * online sometimes leave such a failed attempt behind too, and then pay at the counter (which
 * the hub does not see).
 */
function planAttempts(r: Random, first: Date, paysOnline: boolean, ttlMinutes: number): PlannedAttempt[] {
  const success = (start: Date): PlannedAttempt => ({
    startAt: start,
    settleAt: new Date(start.getTime() + r.int(1, Math.min(12, ttlMinutes - 1)) * MINUTE + r.int(0, 59) * 1000),
    outcome: 'succeeded',
  });
  const failure = (start: Date, outcome: Exclude<AttemptOutcome, 'succeeded'>): PlannedAttempt => ({
    startAt: start,
    settleAt:
      outcome === 'expired'
        ? new Date(start.getTime() + (ttlMinutes + r.int(1, 5)) * MINUTE) // the expiry job's next run
        : new Date(start.getTime() + r.int(1, Math.min(10, ttlMinutes - 1)) * MINUTE),
    outcome,
  });
  const failedFirst = (): PlannedAttempt =>
    failure(first, r.weighted<Exclude<AttemptOutcome, 'succeeded'>>({ expired: 60, cancelled: 25, failed: 15 }));

  if (paysOnline) {
    if (r.chance(0.8)) return [success(first)];
    const abandoned = failedFirst();
    return [abandoned, success(new Date(abandoned.settleAt.getTime() + r.int(10, 600) * MINUTE))];
  }
  return r.chance(0.2) ? [failedFirst()] : [];
}

const INTEGRATED = new Set(DEMO_PROCEDURES.filter((p) => p.procedure.integratedOnlinePayment).map((p) => p.code));

/**
 * The demo's dossiers, ordered by receipt time. Pure: the same options give the same plan.
 * Each receiving unit gets its own propensity to pay online (40–95 %), so a campaign has units
 * that lag behind to push; a counter (direct) filing pays online less often than an online one.
 */
export function planDossiers(options: PlanOptions): PlannedDossier[] {
  const r = new Random(mulberry32(options.seed));
  const days = businessDays(options.now);
  const procedures = Object.keys(DEMAND).sort();
  const weights = Object.fromEntries(procedures.map((code) => [code, DEMAND[code]!.weight]));
  const agenciesOf = (code: string) => {
    const agencies = DEMAND[code]!.agencies;
    return agencies === 'communes' ? CURRENT_COMMUNES : agencies;
  };
  const receivers = [...new Set(procedures.flatMap(agenciesOf))].sort();
  const propensity = new Map(receivers.map((code) => [code, 0.4 + r.next() * 0.55]));
  const channelFactor: Record<Channel, number> = { online: 1, postal: 0.7, direct: 0.65 };
  // The campaign works: from its start, payers are gradually more likely to pay online.
  const campaignStart = addDays(vnDate(options.now), -DEMO_CAMPAIGN_STARTED_DAYS_AGO);
  const lift = (date: string) => {
    if (date < campaignStart) return 1;
    const day = Math.round((Date.parse(date) - Date.parse(campaignStart)) / 86_400_000);
    return 1 + ((CAMPAIGN_LIFT - 1) * Math.min(day, 29)) / 29;
  };

  const plans: PlannedDossier[] = [];
  for (let i = 0; i < options.count; i++) {
    const procedureCode = r.weighted(weights);
    const demand = DEMAND[procedureCode]!;
    const agencyCode = r.pick(agenciesOf(procedureCode));
    const channel = r.weighted(demand.channels);
    const receivedAt = receiptTime(r, r.pick(days));
    const home = demand.agencies === 'communes' ? agencyCode : r.pick(CURRENT_COMMUNES);
    const applicant = {
      name: demand.applicant === 'eatery' ? `${r.pick(EATERY_KIND)} ${r.pick(EATERY_NAME)}` : personName(r),
      address: address(r, home),
    };
    const inputs = demand.inputs?.(r) ?? {};

    // When the payer reaches the payment step: online filers soon after acceptance, at the
    // counter within minutes (QR at the desk), by post when the letter is processed.
    const delay = channel === 'online' ? r.int(2, 90) : channel === 'direct' ? r.int(1, 15) : r.int(60, 48 * 60);
    const likelihood = Math.min(0.97, propensity.get(agencyCode)! * channelFactor[channel] * lift(vnDate(receivedAt)));
    const paysOnline = INTEGRATED.has(procedureCode) && r.chance(likelihood);
    const attempts = INTEGRATED.has(procedureCode)
      ? planAttempts(r, new Date(receivedAt.getTime() + delay * MINUTE), paysOnline, options.intentTtlMinutes)
      : [];
    // Nothing happens after `now`: an attempt that would end later has not happened yet.
    const past = attempts.filter((a) => a.settleAt.getTime() < options.now.getTime());

    plans.push({
      procedureCode,
      agencyCode,
      channel,
      receivedAt,
      applicant,
      declaredValue: inputs.declaredValue ?? null,
      quantity: inputs.quantity ?? null,
      payerCategory: inputs.payerCategory ?? null,
      vehicleRegistration: inputs.vehicleRegistration ?? null,
      urbanArea: inputs.urbanArea ?? null,
      attempts: past,
    });
  }
  return plans.sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime());
}

// ── Dossier codes ───────────────────────────────────────────────────────────────────────

/** `yymmdd` of a Vietnamese date. */
const yymmdd = (date: string) => date.slice(2).replaceAll('-', '');

/**
 * Dossier codes `<receiving unit>-<yymmdd>-<daily sequence>` for the plans (in receipt order),
 * continuing after the highest sequence already used by that unit on that day, so a second
 * run (or dossiers from a real dossier system) never collide with the new ones.
 */
async function assignCodes(ctx: ServiceContext, plans: PlannedDossier[]): Promise<string[]> {
  const prefixes = [...new Set(plans.map((p) => `${p.agencyCode}-${yymmdd(vnDate(p.receivedAt))}`))];
  const used = new Map<string, number>();
  if (prefixes.length > 0) {
    const prefix = sql<string>`left(${dossiers.code}, -5)`;
    const rows = await executor(ctx)
      .select({ prefix, last: sql<number>`max(right(${dossiers.code}, 4)::int)` })
      .from(dossiers)
      .where(and(inArray(prefix, prefixes), sql`${dossiers.code} ~ '-[0-9]{6}-[0-9]{4}$'`))
      .groupBy(prefix);
    for (const row of rows) used.set(row.prefix, Number(row.last));
  }
  return plans.map((p) => {
    const key = `${p.agencyCode}-${yymmdd(vnDate(p.receivedAt))}`;
    const next = (used.get(key) ?? 0) + 1;
    if (next > 9999) throw new Error(`no daily sequence left for ${key}`);
    used.set(key, next);
    return `${key}-${String(next).padStart(4, '0')}`;
  });
}

// ── Registering and paying ──────────────────────────────────────────────────────────────

/** The context with its clock stopped at `at`: the service records that moment as "now". */
const at = (ctx: ServiceContext, instant: Date): ServiceContext => ({ ...ctx, now: () => instant });

function outcomeOf(attempt: PlannedAttempt, intent: PaymentIntentView): Outcome {
  switch (attempt.outcome) {
    case 'succeeded':
      return { kind: 'succeeded', amount: intent.amount, transactionId: `SBX${intent.reference}`, paidAt: attempt.settleAt };
    case 'failed':
      return { kind: 'failed', reason: 'declined by the payer', transactionId: `SBX${intent.reference}` };
    case 'expired':
      return { kind: 'expired', reason: 'not paid before the intent expired' };
    case 'cancelled':
      return { kind: 'cancelled', reason: 'cancelled by the payer' };
  }
}

export interface DossierSeedReport {
  dossiers: number;
  paidOnline: number;
  intents: number;
  paymentsSkipped: boolean;
}

/**
 * Registers the planned dossiers, then plays the payment attempts in time order (so receipt
 * numbers rise with payment time within each series). Without a sandbox gateway the dossiers
 * are registered and left unpaid.
 */
/** Records a seeded payer's choice in the sandbox's own ledger (src/emulators/, passed in by the Node side). */
export type SandboxLedgerWriter = (
  db: Executor,
  choice: { reference: string; amount: number; paid: boolean; at: Date },
) => Promise<unknown>;

export async function seedDossiers(
  ctx: ServiceContext,
  options: PlanOptions & { recordSandboxChoice?: SandboxLedgerWriter },
): Promise<DossierSeedReport> {
  const plans = planDossiers(options);
  const codes = await assignCodes(ctx, plans);

  const due = new Map<string, number>();
  for (const [i, plan] of plans.entries()) {
    const code = codes[i]!;
    // The dossier system sends the dossier shortly after the officer accepts it.
    const { dossier } = await putDossier(at(ctx, new Date(plan.receivedAt.getTime() + 20_000)), SEED_PRINCIPAL, code, {
      procedureCode: plan.procedureCode,
      agencyCode: plan.agencyCode,
      channel: plan.channel,
      receivedAt: plan.receivedAt,
      applicant: plan.applicant,
      declaredValue: plan.declaredValue,
      quantity: plan.quantity,
      payerCategory: plan.payerCategory,
      vehicleRegistration: plan.vehicleRegistration,
      urbanArea: plan.urbanArea,
    });
    due.set(code, dossier.totalDue);
  }

  const report: DossierSeedReport = { dossiers: plans.length, paidOnline: 0, intents: 0, paymentsSkipped: false };
  if (!ctx.gateways.sandbox) {
    report.paymentsSkipped = true;
    ctx.log.warn('demo dossiers left unpaid: no sandbox gateway is configured');
    return report;
  }

  // Exempt and fully waived dossiers have nothing to pay.
  const sessions = plans
    .map((plan, i) => ({ plan, code: codes[i]! }))
    .filter(({ plan, code }) => plan.attempts.length > 0 && (due.get(code) ?? 0) > 0)
    .sort((a, b) => a.plan.attempts[0]!.startAt.getTime() - b.plan.attempts[0]!.startAt.getTime());

  for (const { plan, code } of sessions) {
    for (const [n, attempt] of plan.attempts.entries()) {
      const created = await createPaymentIntent(
        at(ctx, attempt.startAt),
        SEED_PRINCIPAL,
        { dossierCode: code, gateway: 'sandbox', returnUrl: RETURN_URL },
        `seed-${code}-${n + 1}`,
      );
      const intent = created.body as PaymentIntentView;
      report.intents++;
      const result = await applyOutcome(at(ctx, attempt.settleAt), {
        intentId: intent.id,
        outcome: outcomeOf(attempt, intent),
        source: 'seed',
        actor: 'seed',
      });
      if (result.result !== 'applied') throw new Error(`seed payment of ${code}: ${result.result}`);
      // The seed is one transaction: its receipts are issued in it, on the day they were paid.
      if (result.receiptDue) await issueWaitingReceipts(at(ctx, attempt.settleAt), result.receiptDue.agencyCode);
      if (attempt.outcome === 'succeeded') report.paidOnline++;
      // The sandbox's side of the same history: the payer's choice in its ledger, as its checkout
      // would have kept it, so its settlement file (GET /sandbox/statement) tells the seeded days
      // as the hub does. An expired or cancelled attempt never reached a choice: no row.
      if (options.recordSandboxChoice && (attempt.outcome === 'succeeded' || attempt.outcome === 'failed')) {
        await options.recordSandboxChoice(executor(ctx), {
          reference: intent.reference,
          amount: intent.amount,
          paid: attempt.outcome === 'succeeded',
          at: attempt.settleAt,
        });
      }
    }
  }
  return report;
}
