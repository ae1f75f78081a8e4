import { and, desc, eq, inArray, sql } from 'drizzle-orm';
import { pgError } from '../db/errors.ts';
import { agencies, campaigns } from '../db/schema/index.ts';
import { queryRows } from '../db/types.ts';
import { addDays, vnDate } from '../domain/dates.ts';
import {
  changeOf,
  type DateRange,
  datesOf,
  daysBetween,
  emptySummary,
  gapTo,
  type IndicatorKey,
  type IndicatorSet,
  indicatorKeys,
  neededForTarget,
  type ProcedureCounts,
  type Projection,
  project,
  type Ratio,
  rateOf,
  ratiosOf,
  type Summary,
  scoreAll,
  summarise,
} from '../domain/indicators.ts';
import { campaignProgressRows, purgeCountedDeltas, refreshCampaignSummary, summarisedCampaigns } from './campaign-summaries.ts';
import { executor, type ServiceContext, withTransaction } from './context.ts';
import { notFound, ServiceError } from './errors.ts';
import { idempotencyScope, rememberResponse, requestFingerprint, storedResponse } from './idempotency.ts';
import {
  type ActionLists,
  type AgencyRef,
  actionLists,
  childAgencies,
  childFacts,
  feeBearingCatalogue,
  feeBearingCells,
  PER_PROCEDURE_SUMS,
  resolveScope,
  type Scope,
  SUMMARY_SQL,
  summaryOf,
  type UnitRatio,
} from './indicators.ts';
import { actorOf, type Principal, scopeCondition } from './principal.ts';

/**
 * Campaigns (DESIGN.md): a province's push to raise the online-payment indicators of an agency's
 * subtree over a number of days, against a baseline window and a target rate per indicator.
 * Progress is computed from the daily roll-ups each time it is asked for, so it is never stale.
 */

type Targets = Record<IndicatorKey, number | null>;

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
const BASELINE_DAYS = 30;
function defaultBaseline(startDate: string): DateRange {
  return { from: addDays(startDate, -BASELINE_DAYS), to: addDays(startDate, -1) };
}

/**
 * The row a campaign definition makes: its baseline (defaulted, and ending before the start) and
 * its agency, which must be in the caller's scope (422 otherwise: a body naming an agency).
 */
async function campaignValues(ctx: ServiceContext, principal: Principal, input: CampaignInput) {
  const baseline = input.baseline ?? defaultBaseline(input.startDate);
  if (baseline.from > baseline.to) {
    throw new ServiceError('validation-failed', 'the baseline ends before it starts', [
      { path: 'baseline.to', message: 'before baseline.from' },
    ]);
  }
  if (baseline.to >= input.startDate) {
    throw new ServiceError('validation-failed', 'the baseline must end before the campaign starts', [
      { path: 'baseline.to', message: 'on or after startDate' },
    ]);
  }
  const scope = await resolveScope(ctx, principal, input.agencyCode).catch((error: unknown) => {
    if (error instanceof ServiceError && error.code === 'not-found') {
      throw new ServiceError('unknown-agency', `agency ${input.agencyCode} is not known in your scope`, [
        { path: 'agencyCode', message: 'unknown agency' },
      ]);
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
      const stored = await storedResponse(ctx, idempotencyScope(principal), idempotencyKey, fingerprint);
      if (stored) return (stored.body as { id: string }).id;
      const values = await campaignValues(ctx, principal, input);
      const now = ctx.now();
      const id = crypto.randomUUID();
      await executor(ctx)
        .insert(campaigns)
        .values({ id, ...values, createdBy: owner, createdAt: now, updatedAt: now });
      await rememberResponse(ctx, idempotencyScope(principal), idempotencyKey, fingerprint, { status: 201, body: { id } });
      return id;
    });
  const id = await replayOrCreate().catch(async (error: unknown) => {
    // The same key at the same moment: whichever committed first owns it.
    if (pgError(error).code !== '23505') throw error;
    const stored = await storedResponse(ctx, idempotencyScope(principal), idempotencyKey, fingerprint);
    if (!stored) throw error;
    return (stored.body as { id: string }).id;
  });
  return getCampaign(ctx, principal, id);
}

/** Replaces a campaign's definition (admin): a corrected target, start or baseline. */
export async function updateCampaign(ctx: ServiceContext, principal: Principal, id: string, input: CampaignInput) {
  await withTransaction(ctx, async (ctx) => {
    const scope = scopeCondition(principal, campaigns.agencyCode);
    const [existing] = await executor(ctx)
      .select({ id: campaigns.id })
      .from(campaigns)
      .where(and(eq(campaigns.id, id), scope))
      .for('update');
    if (!existing) throw notFound(`campaign ${id}`);
    const values = await campaignValues(ctx, principal, input);
    await executor(ctx)
      .update(campaigns)
      .set({ ...values, updatedAt: ctx.now() })
      .where(eq(campaigns.id, id));
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

interface LeaderboardRow {
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
  targets: Record<
    IndicatorKey,
    { target: number | null; rate: number | null; gap: number | null; reached: boolean | null; needed: number | null }
  >;
  series: SeriesPoint[];
  projection: { endDate: string; remainingDays: number } & Record<
    IndicatorKey,
    Projection & { target: number | null; onTrack: boolean | null }
  >;
  leaderboard: LeaderboardRow[];
  actions: ActionLists;
}

type Window = 'baseline' | 'campaign';

interface ProcedureWindow extends ProcedureCounts {
  window: Window;
  /** Campaign days: the first day the procedure had a dossier, one paid online, one charged. */
  firstFiled: string | null;
  firstPaid: string | null;
  firstCharged: string | null;
}

interface ProgressData {
  /** Each day's summary, baseline and campaign days. */
  days: Map<string, Summary>;
  /** Each fee-bearing procedure's counts per window. */
  procedures: ProcedureWindow[];
  /** Each child's summary per window, keyed `window|child` ('' for the scope agency itself). */
  children: Map<string, Summary>;
  /** Indicator c per receiving unit, campaign days. */
  units: Array<{ agency: string } & Ratio>;
}

/**
 * Everything progress needs, in one statement over the roll-ups of the scope's baseline and
 * campaign days (fee-bearing procedures only), reduced in the database to one row per day, per
 * procedure and window, per child and window, and per receiving unit: never units × procedures.
 */
async function progressData(
  ctx: ServiceContext,
  scope: Scope,
  baseline: DateRange,
  counted: DateRange | null,
  today: string,
  /** The campaign whose agency `scope` is: its summary answers (campaign-summaries.ts), when there is one to be had. */
  summarised?: string,
): Promise<ProgressData> {
  const rows =
    (summarised ? await campaignProgressRows(ctx, summarised, { scope, baseline, counted, today }) : null) ??
    (await liveProgressRows(ctx, scope, baseline, counted, today));
  const data: ProgressData = { days: new Map(), procedures: [], children: new Map(), units: [] };
  for (const r of rows) {
    const key = String(r.key);
    if (r.kind === 'day') data.days.set(key, summaryOf(r));
    else if (r.kind === 'child') data.children.set(`${r.win}|${key}`, summaryOf(r));
    else if (r.kind === 'unit') data.units.push({ agency: key, numerator: Number(r.paid), denominator: Number(r.fee_dossiers) });
    else {
      data.procedures.push({
        procedureCode: key,
        window: r.win as Window,
        dossiers: Number(r.dossiers),
        feeDossiers: Number(r.fee_dossiers),
        paidOnline: Number(r.paid),
        charged: Number(r.charged),
        firstFiled: (r.first_filed as string | null) ?? null,
        firstPaid: (r.first_paid as string | null) ?? null,
        firstCharged: (r.first_charged as string | null) ?? null,
      });
    }
  }
  return data;
}

/** Progress's rows, counted from the roll-ups of the scope's days (any scope: a unit of the campaign's subtree too). */
async function liveProgressRows(
  ctx: ServiceContext,
  scope: Scope,
  baseline: DateRange,
  counted: DateRange | null,
  today: string,
): Promise<Array<Record<string, unknown>>> {
  const start = counted?.from ?? addDays(baseline.to, 1);
  const window = sql`CASE WHEN received_date >= ${start}::date THEN 'campaign' ELSE 'baseline' END`;
  const firstDay = (condition: string) =>
    sql`to_char(min(received_date) FILTER (WHERE ${sql.raw(condition)} AND received_date >= ${start}::date), 'YYYY-MM-DD')`;
  return queryRows<Record<string, unknown>>(
    executor(ctx),
    sql`
    WITH cells AS (${feeBearingCells(scope, counted ? [baseline, counted] : [baseline], today)}),
    per_day AS (SELECT received_date, procedure_code, ${PER_PROCEDURE_SUMS} FROM cells GROUP BY received_date, procedure_code),
    per_child AS (SELECT ${window} AS win, child, procedure_code, ${PER_PROCEDURE_SUMS} FROM cells GROUP BY 1, 2, 3)
    SELECT 'day' AS kind, to_char(received_date, 'YYYY-MM-DD') AS key, NULL::text AS win, ${SUMMARY_SQL},
           NULL::int8 AS dossiers, NULL::int8 AS charged, NULL::text AS first_filed, NULL::text AS first_paid, NULL::text AS first_charged
    FROM per_day GROUP BY received_date
    UNION ALL
    SELECT 'child', child, win, ${SUMMARY_SQL}, NULL, NULL, NULL, NULL, NULL FROM per_child GROUP BY win, child
    UNION ALL
    SELECT 'procedure', procedure_code, ${window}, NULL, NULL, NULL, sum(paid_online)::int8, sum(fee_dossiers)::int8, sum(dossiers)::int8, sum(charged)::int8,
           ${firstDay('dossiers > 0')}, ${firstDay('paid_online > 0')}, ${firstDay('charged > 0')}
    FROM per_day GROUP BY 2, 3
    UNION ALL
    SELECT 'unit', agency_code, 'campaign', NULL, NULL, NULL, sum(paid_online)::int8, sum(fee_dossiers)::int8, NULL, NULL, NULL, NULL, NULL
    FROM cells WHERE received_date >= ${start}::date GROUP BY agency_code`,
  );
}

/** The receiving units' names, for the action list of units. */
async function unitsNamed(ctx: ServiceContext, units: Array<{ agency: string } & Ratio>): Promise<UnitRatio[]> {
  if (units.length === 0) return [];
  const named = await executor(ctx)
    .select({ code: agencies.code, name: agencies.name, level: agencies.level, parentCode: agencies.parentCode })
    .from(agencies)
    .where(
      inArray(
        agencies.code,
        units.map((u) => u.agency),
      ),
    );
  const byCode = new Map(named.map((a) => [a.code, a]));
  return units
    .filter((u) => byCode.has(u.agency))
    .map((u) => ({ agency: byCode.get(u.agency)!, numerator: u.numerator, denominator: u.denominator }));
}

const ratioKeys = <T>(f: (k: IndicatorKey) => T) => Object.fromEntries(indicatorKeys.map((k) => [k, f(k)])) as Record<IndicatorKey, T>;

/** Today (in Vietnam), the campaign's status, and the days of it counted so far. */
function daysOf(ctx: ServiceContext, campaign: CampaignView) {
  const today = vnDate(ctx.now());
  const end = campaign.endDate;
  const status: CampaignProgress['status'] = today < campaign.startDate ? 'scheduled' : today > end ? 'ended' : 'running';
  // biome-ignore lint/complexity/useMathMinMax: yyyy-mm-dd strings, compared as text, not numbers.
  const counted: DateRange | null = status === 'scheduled' ? null : { from: campaign.startDate, to: today < end ? today : end };
  return { today, status, counted };
}

/** Who refreshes summaries: the jobs, which see every campaign. */
const JOBS: Principal = { subject: 'jobs', role: 'admin', agencies: [] };

/**
 * The jobs' part (every minute): the summary of each campaign whose progress was asked for is
 * made again for today, so that a read adds few deltas; then the deltas every summary counts are
 * deleted. A campaign another refresh holds is left to it.
 */
export async function refreshCampaignSummaries(ctx: ServiceContext): Promise<{ refreshed: number; deltasPurged: number }> {
  let refreshed = 0;
  for (const id of await summarisedCampaigns(ctx)) {
    const campaign = await getCampaign(ctx, JOBS, id).catch(() => null);
    if (!campaign) continue;
    const scope = await resolveScope(ctx, JOBS, campaign.agency.code);
    const { today, counted } = daysOf(ctx, campaign);
    if (await refreshCampaignSummary(ctx, id, { scope, baseline: campaign.baseline, counted, today })) refreshed++;
  }
  return { refreshed, deltasPurged: await purgeCountedDeltas(ctx) };
}

/**
 * The operators' check (`npm run indicators -- verify`): each campaign's progress from its summary
 * against the same progress counted from the roll-ups. The campaigns where they differ.
 */
export async function campaignSummaryDrift(ctx: ServiceContext): Promise<Array<{ campaignId: string; summary: unknown; live: unknown }>> {
  const drift: Array<{ campaignId: string; summary: unknown; live: unknown }> = [];
  for (const id of await summarisedCampaigns(ctx)) {
    const summary = await campaignProgress(ctx, JOBS, id);
    const live = await campaignProgress(ctx, JOBS, id, undefined, 'live');
    if (JSON.stringify(summary) !== JSON.stringify(live)) drift.push({ campaignId: id, summary: summary.current, live: live.current });
  }
  return drift;
}

/**
 * `GET /v1/campaigns/{id}/progress`: for the campaign's agency, or (`agencyCode`) for one unit of
 * its subtree, over the same days and against the same targets.
 */
export async function campaignProgress(
  ctx: ServiceContext,
  principal: Principal,
  id: string,
  agencyCode?: string,
  /** `live`: counted from the roll-ups even where a summary would answer (the operators' verify compares both). */
  counting: 'summary' | 'live' = 'summary',
): Promise<CampaignProgress> {
  const campaign = await getCampaign(ctx, principal, id);
  // The campaign's agency, as the caller may see it (a campaign is in scope exactly when it is).
  const campaignScope = await resolveScope(ctx, principal, campaign.agency.code);
  const scope =
    agencyCode === undefined || agencyCode === campaignScope.code ? campaignScope : await resolveScope(ctx, principal, agencyCode);
  if (!scope.path.includes(campaignScope.marker)) throw notFound(`agency ${agencyCode} in the campaign's units`);
  const settings = ctx.settings.indicators;
  const { today, status, counted } = daysOf(ctx, campaign);
  const end = campaign.endDate;
  const [catalogue, children, data] = await Promise.all([
    feeBearingCatalogue(ctx, scope),
    childAgencies(ctx, scope),
    // The campaign's own agency has a summary; one unit of its subtree is counted from its roll-ups.
    progressData(
      ctx,
      scope,
      campaign.baseline,
      counted,
      today,
      scope === campaignScope && counting === 'summary' ? campaign.id : undefined,
    ),
  ]);
  const { facts } = catalogue;
  const ratios = (summary: Summary) => ratiosOf(summary, facts, settings.integrationSource);
  const scored = (summary: Summary) => scoreAll(ratios(summary), settings.scoring);

  // The daily series. Day by day, of the day alone; and since the start: a and b count the
  // procedures whose first dossier (payment, charged line) of the campaign is on or before the
  // day, c adds up the days.
  const inCampaign = data.procedures.filter((p) => p.window === 'campaign');
  const firsts = (pick: (p: ProcedureWindow) => string | null) => {
    const onDay = new Map<string, number>();
    for (const p of inCampaign) {
      const day = pick(p);
      if (day !== null) onDay.set(day, (onDay.get(day) ?? 0) + 1);
    }
    return onDay;
  };
  const firstFiled = firsts((p) => p.firstFiled);
  const firstPaid = firsts((p) => p.firstPaid);
  const firstCharged = firsts((p) => p.firstCharged);
  const series: SeriesPoint[] = [];
  const running = emptySummary();
  for (const date of counted ? datesOf(counted) : []) {
    const day = data.days.get(date) ?? emptySummary();
    running.withDossiers += firstFiled.get(date) ?? 0;
    running.withPayment += firstPaid.get(date) ?? 0;
    running.withCharge += firstCharged.get(date) ?? 0;
    running.paid += day.paid;
    running.feeDossiers += day.feeDossiers;
    const cumulative = ratios(running);
    const daily = ratios(day);
    series.push({
      date,
      day: daysBetween(campaign.startDate, date),
      cumulative: ratioKeys((k) => withRate(cumulative[k])),
      daily: ratioKeys((k) => withRate(daily[k])),
    });
  }

  const baseline = {
    ...campaign.baseline,
    ...scored(
      summarise(
        data.procedures.filter((p) => p.window === 'baseline'),
        facts.feeBearing,
      ),
    ),
  };
  const campaignTotals = new Map<string, ProcedureCounts>(inCampaign.map((p) => [p.procedureCode, p]));
  const current = {
    from: campaign.startDate,
    to: counted?.to ?? addDays(campaign.startDate, -1),
    ...scored(summarise(inCampaign, facts.feeBearing)),
  };

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
      // a and b count procedures: never more than the catalogue's fee-bearing ones (b: those the scope can receive).
      const cap = k === 'dossierOnlinePayment' ? undefined : k === 'procedureIntegration' ? facts.receivable.size : facts.feeBearing.size;
      const target = campaign.targets[k];
      return {
        ...project(
          series.map((s) => s.cumulative[k]),
          remainingDays,
          { cap, target },
        ),
        target,
      };
    }),
  };

  const dossierTarget = campaign.targets.dossierOnlinePayment;
  // Each child's b counts what that child can receive.
  const scoredFor = (child: string) => (summary: Summary) =>
    scoreAll(ratiosOf(summary, childFacts(catalogue, child), settings.integrationSource), settings.scoring);
  const leaderboardRow = (agency: AgencyRef & { direct: boolean }, child: string): LeaderboardRow => {
    const scoredChild = scoredFor(child);
    const before = scoredChild(data.children.get(`baseline|${child}`) ?? emptySummary());
    const now = scoredChild(data.children.get(`campaign|${child}`) ?? emptySummary());
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
  if (data.children.has('campaign|') || data.children.has('baseline|')) {
    leaderboard.push(leaderboardRow({ code: scope.code, name: scope.name, level: scope.level, direct: true }, ''));
  }
  // Best dossier rate first; units without dossiers last.
  leaderboard.sort(
    (x, y) =>
      (y.current.dossierOnlinePayment.rate ?? -1) - (x.current.dossierOnlinePayment.rate ?? -1) ||
      x.agency.code.localeCompare(y.agency.code),
  );

  const units = await unitsNamed(ctx, data.units);
  const actions = actionLists(
    campaignTotals,
    units,
    catalogue,
    settings,
    dossierTarget ?? Number(settings.scoring.dossierOnlinePayment.threshold),
  );

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
