import { and, desc, eq, sql } from 'drizzle-orm';
import { pgError } from '../db/errors.ts';
import { agencies, campaigns } from '../db/schema/index.ts';
import { queryRows } from '../db/types.ts';
import { addDays, vnDate } from '../domain/dates.ts';
import {
  changeOf,
  datesOf,
  gapTo,
  daysBetween,
  indicatorKeys,
  indicatorRatios,
  neededForTarget,
  project,
  rateOf,
  scoreAll,
  sumByProcedure,
  type DateRange,
  type IndicatorKey,
  type IndicatorSet,
  type ProcedureCounts,
  type Projection,
  type Ratio,
} from '../domain/indicators.ts';
import { executor, withTransaction, type ServiceContext } from './context.ts';
import { notFound, ServiceError } from './errors.ts';
import { rememberResponse, requestFingerprint, storedResponse } from './idempotency.ts';
import {
  actionLists,
  childAgencies,
  childOf,
  feeBearingCondition,
  feeBearingCatalogue,
  groupBy,
  resolveScope,
  unitRatios,
  type ActionLists,
  type AgencyRef,
  type CellSums,
  type Scope,
} from './indicators.ts';
import { actorOf, scopeCondition, type Principal } from './principal.ts';

/**
 * Campaigns (DESIGN.md): a province's push to raise the online-payment indicators of an agency's
 * subtree over a number of days, against a baseline window and a target rate per indicator.
 * Progress is computed from the daily roll-ups each time it is asked for, so it is never stale.
 */

export type Targets = Record<IndicatorKey, number | null>;

export interface CampaignInput {
  name: string;
  agencyCode: string;
  startDate: string;
  days: number;
  targets: Partial<Targets>;
  baseline?: DateRange;
}

export interface CampaignView {
  id: string;
  name: string;
  agency: AgencyRef;
  startDate: string;
  endDate: string;
  days: number;
  baseline: DateRange;
  targets: Targets;
  createdBy: string;
  createdAt: string;
}

type CampaignRow = typeof campaigns.$inferSelect;

const TARGET_COLUMNS = {
  procedureOnlinePayment: 'targetProcedureOnlinePayment',
  procedureIntegration: 'targetProcedureIntegration',
  dossierOnlinePayment: 'targetDossierOnlinePayment',
} as const satisfies Record<IndicatorKey, keyof CampaignRow>;

function campaignView(row: CampaignRow, agency: { code: string; name: string; level: string }): CampaignView {
  return {
    id: row.id,
    name: row.name,
    agency: { code: agency.code, name: agency.name, level: agency.level },
    startDate: row.startDate,
    endDate: addDays(row.startDate, row.days - 1),
    days: row.days,
    baseline: { from: row.baselineFrom, to: row.baselineTo },
    targets: Object.fromEntries(
      indicatorKeys.map((k) => {
        const value = row[TARGET_COLUMNS[k]];
        return [k, value === null ? null : Number(value)];
      }),
    ) as Targets,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
  };
}

/** The default baseline: the 30 days just before the start, whatever the campaign's length. */
export const BASELINE_DAYS = 30;
export function defaultBaseline(startDate: string): DateRange {
  return { from: addDays(startDate, -BASELINE_DAYS), to: addDays(startDate, -1) };
}

/**
 * The row a campaign definition makes: its baseline (defaulted, and ending before the start) and
 * its agency, which must be in the caller's scope (422 otherwise: a body naming an agency).
 */
async function campaignValues(ctx: ServiceContext, principal: Principal, input: CampaignInput) {
  const baseline = input.baseline ?? defaultBaseline(input.startDate);
  if (baseline.from > baseline.to) {
    throw new ServiceError('validation-failed', 'the baseline ends before it starts', [{ path: 'baseline.to', message: 'before baseline.from' }]);
  }
  if (baseline.to >= input.startDate) {
    throw new ServiceError('validation-failed', 'the baseline must end before the campaign starts', [{ path: 'baseline.to', message: 'on or after startDate' }]);
  }
  const scope = await resolveScope(ctx, principal, input.agencyCode).catch((error: unknown) => {
    if (error instanceof ServiceError && error.code === 'not-found') {
      throw new ServiceError('unknown-agency', `agency ${input.agencyCode} is not known in your scope`, [{ path: 'agencyCode', message: 'unknown agency' }]);
    }
    throw error;
  });
  const target = (k: IndicatorKey) => {
    const value = input.targets[k];
    return value === undefined || value === null ? null : String(value);
  };
  return {
    name: input.name,
    agencyCode: scope.code,
    startDate: input.startDate,
    days: input.days,
    baselineFrom: baseline.from,
    baselineTo: baseline.to,
    targetProcedureOnlinePayment: target('procedureOnlinePayment'),
    targetProcedureIntegration: target('procedureIntegration'),
    targetDossierOnlinePayment: target('dossierOnlinePayment'),
  };
}

/**
 * Creates a campaign (admin). The same Idempotency-Key and body replay the first answer; the key
 * with another body is refused.
 */
export async function createCampaign(ctx: ServiceContext, principal: Principal, input: CampaignInput, idempotencyKey: string) {
  const owner = actorOf(principal);
  const fingerprint = requestFingerprint('POST /v1/campaigns', input);
  const replayOrCreate = () =>
    withTransaction(ctx, async (ctx) => {
      const stored = await storedResponse(ctx, owner, idempotencyKey, fingerprint);
      if (stored) return (stored.body as { id: string }).id;
      const values = await campaignValues(ctx, principal, input);
      const now = ctx.now();
      const id = crypto.randomUUID();
      await executor(ctx)
        .insert(campaigns)
        .values({ id, ...values, createdBy: owner, createdAt: now, updatedAt: now });
      await rememberResponse(ctx, owner, idempotencyKey, fingerprint, { status: 201, body: { id } });
      return id;
    });
  const id = await replayOrCreate().catch(async (error: unknown) => {
    // The same key at the same moment: whichever committed first owns it.
    if (pgError(error).code !== '23505') throw error;
    const stored = await storedResponse(ctx, owner, idempotencyKey, fingerprint);
    if (!stored) throw error;
    return (stored.body as { id: string }).id;
  });
  return getCampaign(ctx, principal, id);
}

/** Replaces a campaign's definition (admin): a corrected target, start or baseline. */
export async function updateCampaign(ctx: ServiceContext, principal: Principal, id: string, input: CampaignInput) {
  await withTransaction(ctx, async (ctx) => {
    const scope = scopeCondition(principal, campaigns.agencyCode);
    const [existing] = await executor(ctx).select({ id: campaigns.id }).from(campaigns).where(and(eq(campaigns.id, id), scope)).for('update');
    if (!existing) throw notFound(`campaign ${id}`);
    const values = await campaignValues(ctx, principal, input);
    await executor(ctx).update(campaigns).set({ ...values, updatedAt: ctx.now() }).where(eq(campaigns.id, id));
  });
  return getCampaign(ctx, principal, id);
}

async function campaignWithAgency(ctx: ServiceContext, principal: Principal, where: ReturnType<typeof eq> | undefined) {
  const scope = scopeCondition(principal, campaigns.agencyCode);
  return executor(ctx)
    .select({ campaign: campaigns, agency: { code: agencies.code, name: agencies.name, level: agencies.level } })
    .from(campaigns)
    .innerJoin(agencies, eq(agencies.code, campaigns.agencyCode))
    .where(and(where, scope))
    .orderBy(desc(campaigns.startDate), desc(campaigns.createdAt));
}

/** The campaigns of agencies in the caller's scope, latest start first. */
export async function listCampaigns(ctx: ServiceContext, principal: Principal): Promise<CampaignView[]> {
  return (await campaignWithAgency(ctx, principal, undefined)).map((r) => campaignView(r.campaign, r.agency));
}

export async function getCampaign(ctx: ServiceContext, principal: Principal, id: string): Promise<CampaignView> {
  const [row] = await campaignWithAgency(ctx, principal, eq(campaigns.id, id));
  if (!row) throw notFound(`campaign ${id}`);
  return campaignView(row.campaign, row.agency);
}

// ── Progress ─────────────────────────────────────────────────────────────────────────────

type RatioWithRate = Ratio & { rate: number | null };
const withRate = (r: Ratio): RatioWithRate => ({ ...r, rate: rateOf(r.numerator, r.denominator) });

export interface SeriesPoint {
  date: string;
  /** 1 on the start date. */
  day: number;
  /** Since the start, up to and including this date. */
  cumulative: Record<IndicatorKey, RatioWithRate>;
  /** Of this date alone. */
  daily: Record<IndicatorKey, RatioWithRate>;
}

export interface LeaderboardRow {
  agency: AgencyRef & { direct: boolean };
  baseline: IndicatorSet;
  current: IndicatorSet;
  /** Change of the dossier rate since the baseline, in rate units (0.05 = 5 points of %). */
  change: number | null;
  /** Target less the current dossier rate (≤ 0 once reached); null without a target or dossiers. */
  gap: number | null;
  /** More dossiers paid online the unit needs to reach the dossier target (0: reached). */
  needed: number | null;
}

export interface CampaignProgress {
  campaign: CampaignView;
  /** The unit counted: the campaign's agency, or one unit of its subtree. */
  agency: AgencyRef & { parentCode: string | null };
  asOf: string;
  status: 'scheduled' | 'running' | 'ended';
  /** Today's day of the campaign (0 before it starts, `days` after it ends). */
  day: number;
  integrationSource: string;
  baseline: DateRange & IndicatorSet;
  current: DateRange & IndicatorSet;
  targets: Record<IndicatorKey, { target: number | null; rate: number | null; gap: number | null; reached: boolean | null; needed: number | null }>;
  series: SeriesPoint[];
  projection: { endDate: string; remainingDays: number } & Record<IndicatorKey, Projection & { target: number | null; onTrack: boolean | null }>;
  leaderboard: LeaderboardRow[];
  actions: ActionLists;
}

interface ProgressCells {
  /** Per (date, procedure), baseline and campaign days. */
  byDate: CellSums[];
  /** Per (window, child, procedure). */
  byChild: Array<CellSums & { window: 'baseline' | 'campaign' }>;
  /** Per (window, receiving unit), fee-bearing procedures only. */
  byUnit: Array<CellSums & { window: 'baseline' | 'campaign' }>;
}

/**
 * Everything progress needs, in one scan of the roll-ups: the baseline and campaign days of the
 * scope, fee-bearing procedures only, summed three ways at once (GROUPING SETS).
 */
async function progressCells(ctx: ServiceContext, scope: Scope, baseline: DateRange, counted: DateRange | null, today: string): Promise<ProgressCells> {
  const campaignRange = counted ? sql`OR r.received_date BETWEEN ${counted.from}::date AND ${counted.to}::date` : sql``;
  const start = counted?.from ?? addDays(baseline.to, 1);
  const rows = await queryRows<Record<string, unknown>>(
    executor(ctx),
    sql`
    WITH cells AS (
      SELECT r.received_date, r.agency_code, r.procedure_code, ${childOf(scope, sql`a.path`)} AS child,
             CASE WHEN r.received_date >= ${start}::date THEN 'campaign' ELSE 'baseline' END AS win,
             r.dossiers, r.dossiers - r.zero_fee AS fee_dossiers, r.paid_online, r.charged
      FROM indicator_daily r JOIN agencies a ON a.code = r.agency_code
      WHERE strpos(a.path, ${scope.marker}) > 0
        AND (r.received_date BETWEEN ${baseline.from}::date AND ${baseline.to}::date ${campaignRange})
        AND ${feeBearingCondition(sql`r.procedure_code`, today)}
    )
    SELECT GROUPING(received_date, child, agency_code) AS grouping_set,
           to_char(received_date, 'YYYY-MM-DD') AS date, win, child, agency_code, procedure_code,
           sum(dossiers)::int8 AS dossiers, sum(fee_dossiers)::int8 AS fee_dossiers,
           sum(paid_online)::int8 AS paid_online, sum(charged)::int8 AS charged
    FROM cells
    GROUP BY GROUPING SETS ((received_date, procedure_code), (win, child, procedure_code), (win, agency_code))`,
  );
  const cells: ProgressCells = { byDate: [], byChild: [], byUnit: [] };
  for (const r of rows) {
    const counts = {
      procedureCode: r.procedure_code === null ? '' : String(r.procedure_code),
      dossiers: Number(r.dossiers),
      feeDossiers: Number(r.fee_dossiers),
      paidOnline: Number(r.paid_online),
      charged: Number(r.charged),
      onlineSubmitted: 0,
    };
    const window = r.win as 'baseline' | 'campaign';
    // GROUPING's bits: received_date, child, agency_code (1 = not grouped by it).
    const set = Number(r.grouping_set);
    if (set === 0b011) cells.byDate.push({ ...counts, date: String(r.date) });
    else if (set === 0b101) cells.byChild.push({ ...counts, window, child: String(r.child) });
    else if (set === 0b110) cells.byUnit.push({ ...counts, window, agency: String(r.agency_code) });
  }
  return cells;
}

const ratioKeys = <T>(f: (k: IndicatorKey) => T) => Object.fromEntries(indicatorKeys.map((k) => [k, f(k)])) as Record<IndicatorKey, T>;

/**
 * `GET /v1/campaigns/{id}/progress`: for the campaign's agency, or (`agencyCode`) for one unit of
 * its subtree, over the same days and against the same targets.
 */
export async function campaignProgress(ctx: ServiceContext, principal: Principal, id: string, agencyCode?: string): Promise<CampaignProgress> {
  const campaign = await getCampaign(ctx, principal, id);
  // The campaign's agency, as the caller may see it (a campaign is in scope exactly when it is).
  const campaignScope = await resolveScope(ctx, principal, campaign.agency.code);
  const scope = agencyCode === undefined || agencyCode === campaignScope.code ? campaignScope : await resolveScope(ctx, principal, agencyCode);
  if (!scope.path.includes(campaignScope.marker)) throw notFound(`agency ${agencyCode} in the campaign's units`);
  const settings = ctx.settings.indicators;
  const today = vnDate(ctx.now());
  const end = campaign.endDate;
  const status = today < campaign.startDate ? 'scheduled' : today > end ? 'ended' : 'running';
  const counted: DateRange | null = status === 'scheduled' ? null : { from: campaign.startDate, to: today < end ? today : end };
  const [catalogue, children, cells] = await Promise.all([
    feeBearingCatalogue(ctx),
    childAgencies(ctx, scope),
    progressCells(ctx, scope, campaign.baseline, counted, today),
  ]);
  const { facts } = catalogue;
  const ratios = (rows: Iterable<ProcedureCounts>) => indicatorRatios(rows, facts, settings.integrationSource);
  const scored = (rows: Iterable<ProcedureCounts>) => scoreAll(ratios(rows), settings.scoring);

  // The daily series: per date, and cumulated since the start, procedure by procedure (a and b
  // count distinct procedures, so a day's procedures are merged into the running totals).
  const byDate = groupBy(cells.byDate, (c) => c.date!);
  const series: SeriesPoint[] = [];
  const running = new Map<string, ProcedureCounts>();
  for (const date of counted ? datesOf(counted) : []) {
    const day = byDate.get(date) ?? [];
    for (const row of day) {
      const total = running.get(row.procedureCode);
      if (total) {
        total.dossiers += row.dossiers;
        total.feeDossiers += row.feeDossiers;
        total.paidOnline += row.paidOnline;
        total.charged += row.charged;
      } else running.set(row.procedureCode, { ...row });
    }
    const cumulative = ratios(running.values());
    const daily = ratios(day);
    series.push({ date, day: daysBetween(campaign.startDate, date), cumulative: ratioKeys((k) => withRate(cumulative[k])), daily: ratioKeys((k) => withRate(daily[k])) });
  }

  const baselineTotals = sumByProcedure(cells.byDate.filter((c) => c.date! <= campaign.baseline.to));
  const baseline = { ...campaign.baseline, ...scored(baselineTotals.values()) };
  const campaignTotals = sumByProcedure(running.values());
  const current = { from: campaign.startDate, to: counted?.to ?? addDays(campaign.startDate, -1), ...scored(campaignTotals.values()) };

  // Reached, gaps and needs from the exact counts: a rate that rounds to the target is not it.
  const targets = ratioKeys((k) => {
    const target = campaign.targets[k];
    const value = current[k];
    const counted = target !== null && value.denominator > 0;
    return {
      target,
      rate: value.rate,
      gap: counted ? gapTo(value, target) : null,
      reached: counted ? neededForTarget(value, target) === 0 : null,
      needed: counted ? neededForTarget(value, target) : null,
    };
  });

  const remainingDays = counted ? daysBetween(counted.to, end) - 1 : campaign.days;
  const projection = {
    endDate: end,
    remainingDays,
    ...ratioKeys((k) => {
      // a and b count procedures: never more than the catalogue's fee-bearing ones.
      const cap = k === 'dossierOnlinePayment' ? undefined : facts.feeBearing.size;
      const target = campaign.targets[k];
      return { ...project(series.map((s) => s.cumulative[k]), remainingDays, { cap, target }), target };
    }),
  };

  const childCells = groupBy(cells.byChild, (c) => `${c.window}|${c.child}`);
  const dossierTarget = campaign.targets.dossierOnlinePayment;
  const leaderboardRow = (agency: AgencyRef & { direct: boolean }, child: string): LeaderboardRow => {
    const before = scored(childCells.get(`baseline|${child}`) ?? []);
    const now = scored(childCells.get(`campaign|${child}`) ?? []);
    const c = now.dossierOnlinePayment;
    return {
      agency,
      baseline: before,
      current: now,
      change: c.denominator === 0 || before.dossierOnlinePayment.denominator === 0 ? null : changeOf(before.dossierOnlinePayment, c),
      gap: dossierTarget === null ? null : gapTo(c, dossierTarget),
      needed: dossierTarget === null || c.denominator === 0 ? null : neededForTarget(c, dossierTarget),
    };
  };
  const leaderboard = children.map((a) => leaderboardRow({ code: a.code, name: a.name, level: a.level, direct: false }, a.code));
  if (childCells.has('campaign|') || childCells.has('baseline|')) {
    leaderboard.push(leaderboardRow({ code: scope.code, name: scope.name, level: scope.level, direct: true }, ''));
  }
  // Best dossier rate first; units without dossiers last.
  leaderboard.sort((x, y) => (y.current.dossierOnlinePayment.rate ?? -1) - (x.current.dossierOnlinePayment.rate ?? -1) || x.agency.code.localeCompare(y.agency.code));

  const units = await unitRatios(ctx, cells.byUnit.filter((c) => c.window === 'campaign'));
  const actions = actionLists(campaignTotals, units, catalogue, settings, dossierTarget ?? Number(settings.scoring.dossierOnlinePayment.threshold));

  return {
    campaign,
    agency: { code: scope.code, name: scope.name, level: scope.level, parentCode: scope.parentCode },
    asOf: today,
    status,
    day: status === 'scheduled' ? 0 : status === 'ended' ? campaign.days : daysBetween(campaign.startDate, today),
    integrationSource: settings.integrationSource,
    baseline,
    current,
    targets,
    series,
    projection,
    leaderboard,
    actions,
  };
}

