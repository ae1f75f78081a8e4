import { and, eq, type SQL, sql } from 'drizzle-orm';
import { agencies } from '../db/schema/index.ts';
import { queryRows } from '../db/types.ts';
import { vnDate } from '../domain/dates.ts';
import {
  type CatalogueFacts,
  type DateRange,
  emptySummary,
  type IndicatorSet,
  type IndicatorSettings,
  indicatorRatios,
  neededForTarget,
  type ProcedureCounts,
  type Ratio,
  rateOf,
  ratiosOf,
  type Summary,
  scoreAll,
} from '../domain/indicators.ts';
import { executor, type ServiceContext } from './context.ts';
import { notFound, ServiceError } from './errors.ts';
import { type Principal, scopeCondition } from './principal.ts';

/**
 * The 766 online-payment indicators of an agency's subtree over a period, computed from the
 * daily roll-ups (`indicator_daily`, kept by the dossiers trigger) and the catalogue as it is
 * now. Nothing here reads a dossier: a query costs days × units × procedures.
 */

export interface Scope {
  code: string;
  name: string;
  level: string;
  parentCode: string | null;
  /** `/…/code/`: an agency is in the subtree when its path contains this. */
  marker: string;
  path: string;
}

export interface AgencyRef {
  code: string;
  name: string;
  level: string;
}

const agencyRef = (s: { code: string; name: string; level: string }): AgencyRef => ({ code: s.code, name: s.name, level: s.level });

/**
 * The agency whose subtree is counted, if the caller may see it (else "not found", as for any
 * resource outside a scope). Without a code: the caller's one scope root, or for an admin the
 * tree's one root.
 */
export async function resolveScope(ctx: ServiceContext, principal: Principal, agencyCode?: string): Promise<Scope> {
  let code = agencyCode;
  if (code === undefined) {
    if (principal.role !== 'admin' && principal.agencies.length === 1) code = principal.agencies[0];
    else if (principal.role === 'admin') {
      const roots = await executor(ctx).select({ code: agencies.code }).from(agencies).where(sql`${agencies.parentCode} IS NULL`).limit(2);
      if (roots.length === 1) code = roots[0]!.code;
    }
    if (code === undefined) {
      throw new ServiceError('validation-failed', 'name the agency whose indicators you want', [
        { path: 'query.agency', message: 'required' },
      ]);
    }
  }
  const scope = scopeCondition(principal, agencies.code);
  const [row] = await executor(ctx)
    .select({ code: agencies.code, name: agencies.name, level: agencies.level, parentCode: agencies.parentCode, path: agencies.path })
    .from(agencies)
    .where(scope ? and(eq(agencies.code, code), scope) : eq(agencies.code, code));
  if (!row) throw notFound(`agency ${code}`);
  return { ...row, marker: `/${row.code}/` };
}

export interface CatalogueProcedure {
  code: string;
  name: string;
  integrated: boolean;
}

export interface ScopedCatalogue {
  /** `receivable`: what the scope (its subtree) can receive. */
  facts: CatalogueFacts;
  procedures: Map<string, CatalogueProcedure>;
  /** Whether a child of the scope (with its subtree; '' the scope agency alone) can receive the procedure. */
  receives(child: string, code: string): boolean;
}

/**
 * "The agency `a` (columns level, path) receives the procedure `p` (columns receiving_levels,
 * receiving_units)": domain/indicators.ts `receives`, in SQL.
 */
function receivesSql(a: string, p: string): SQL {
  const [level, path, levels, units] = [`${a}.level`, `${a}.path`, `${p}.receiving_levels`, `${p}.receiving_units`].map(sql.raw) as [
    SQL,
    SQL,
    SQL,
    SQL,
  ];
  return sql`((cardinality(${levels}) = 0 AND cardinality(${units}) = 0) OR ${level} = ANY(${levels})
           OR EXISTS (SELECT 1 FROM unnest(${units}) AS ru(code) WHERE strpos(${path}, '/' || ru.code || '/') > 0))`;
}

/**
 * The fee-bearing procedures now (a rule in force today can charge), with names and flags, and
 * which of them the scope, and each child of it, can receive: indicator b's denominators.
 */
export async function feeBearingCatalogue(ctx: ServiceContext, scope: Scope): Promise<ScopedCatalogue> {
  const today = vnDate(ctx.now());
  const [rows, reach] = await Promise.all([
    queryRows<{ code: string; name: string; integrated: boolean }>(
      executor(ctx),
      sql`SELECT p.code, p.name, p.integrated_online_payment AS integrated FROM procedures p
          WHERE ${feeBearingCondition(sql`p.code`, today)} ORDER BY p.code`,
    ),
    // The fee-bearing procedures first (one check each, not one per unit). A procedure that names
    // no receiving level or unit is received everywhere: it is listed once (child null), and only
    // the others are matched with each child, so a wide province (150 communes × 300 procedures)
    // is a few hundred rows, not 45,000.
    queryRows<{ child: string | null; codes: string[] }>(
      executor(ctx),
      sql`WITH units AS MATERIALIZED (SELECT a.level, a.path, ${childOf(scope, sql`a.path`)} AS child FROM agencies a
                                      WHERE strpos(a.path, ${scope.marker}) > 0),
               p AS MATERIALIZED (SELECT code, receiving_levels, receiving_units,
                                         cardinality(receiving_levels) = 0 AND cardinality(receiving_units) = 0 AS everywhere
                                  FROM procedures WHERE ${feeBearingCondition(sql`code`, today)})
          SELECT NULL AS child, array_agg(code) AS codes FROM p WHERE everywhere AND EXISTS (SELECT 1 FROM units) HAVING count(*) > 0
          UNION ALL
          SELECT u.child, array_agg(DISTINCT p.code) FROM units u JOIN p ON NOT p.everywhere AND ${receivesSql('u', 'p')} GROUP BY u.child`,
    ),
  ]);
  const procedures = new Map(rows.map((r) => [r.code, { code: r.code, name: r.name, integrated: Boolean(r.integrated) }]));
  const everywhere = new Set(reach.find((r) => r.child === null)?.codes ?? []);
  const receivableByChild = new Map(reach.flatMap((r) => (r.child === null ? [] : [[String(r.child), new Set(r.codes)] as const])));
  return {
    procedures,
    receives: (child, code) => everywhere.has(code) || (receivableByChild.get(child)?.has(code) ?? false),
    facts: {
      feeBearing: new Set(procedures.keys()),
      integrated: new Set(rows.filter((r) => r.integrated).map((r) => r.code)),
      receivable: new Set(reach.flatMap((r) => r.codes)),
    },
  };
}

/** The catalogue facts of one child of the scope: b over what that child can receive. */
export function childFacts(catalogue: ScopedCatalogue, child: string, facts: CatalogueFacts = catalogue.facts): CatalogueFacts {
  return { ...facts, receivable: new Set([...facts.receivable].filter((code) => catalogue.receives(child, code))) };
}

/** "The procedure in `code` is fee-bearing on `today`" (domain/fees.ts isFeeBearing), in SQL. */
function feeBearingCondition(code: SQL, today: string): SQL {
  return sql`EXISTS (SELECT 1 FROM fee_rules fr WHERE fr.procedure_code = ${code} AND fr.can_charge
                     AND fr.valid_from <= ${today}::date AND (fr.valid_to IS NULL OR fr.valid_to >= ${today}::date))`;
}

/** A procedure's counts over the scope and range, with the filings online (all procedures). */
export interface ProcedureSums extends ProcedureCounts {
  onlineSubmitted: number;
}

/** The child of the scope an agency's path passes through ('' for the scope agency itself). */
function childOf(scope: Scope, path: SQL): SQL {
  return sql`split_part(substr(${path}, strpos(${path}, ${scope.marker}) + ${scope.marker.length}), '/', 1)`;
}

/**
 * The roll-up rows of the scope on the given dates, fee-bearing procedures only, each with the
 * child of the scope it falls under and its dossiers to pay: the FROM of the summary queries.
 */
export function feeBearingCells(
  scope: Scope,
  ranges: DateRange[],
  today: string,
  procedureCode?: string,
  /** Rows shaped like the roll-ups' (campaign-summaries.ts gives the deltas a summary has not counted). */
  source: SQL = sql`indicator_daily`,
): SQL {
  const dates = sql.join(
    ranges.map((r) => sql`r.received_date BETWEEN ${r.from}::date AND ${r.to}::date`),
    sql` OR `,
  );
  // Each unit's child is worked out once per unit (a materialised subquery), not once per row. A
  // charged dossier counts for b only where its unit receives the procedure (`charged`).
  return sql`
    WITH units AS MATERIALIZED (SELECT a.code, a.level, a.path, ${childOf(scope, sql`a.path`)} AS child FROM agencies a
                                WHERE strpos(a.path, ${scope.marker}) > 0)
    SELECT r.received_date, r.agency_code, r.procedure_code, u.child, r.dossiers, r.dossiers - r.zero_fee AS fee_dossiers, r.paid_online,
           CASE WHEN ${receivesSql('u', 'p')} THEN r.charged ELSE 0 END AS charged
    FROM ${source} r JOIN units u ON u.code = r.agency_code JOIN procedures p ON p.code = r.procedure_code
    WHERE (${dates}) AND ${feeBearingCondition(sql`r.procedure_code`, today)}
      ${procedureCode === undefined ? sql`` : sql`AND r.procedure_code = ${procedureCode}`}`;
}

/**
 * The summary (domain/indicators.ts `summarise`) of per-procedure sums named dossiers,
 * paid_online, charged and fee_dossiers, as SQL aggregates: the same rules, so that a query
 * grouped by day or by unit returns one row per group instead of one per procedure.
 */
export const SUMMARY_SQL = sql.raw(
  'count(*) FILTER (WHERE dossiers > 0)::int8 AS with_dossiers, count(*) FILTER (WHERE paid_online > 0)::int8 AS with_payment, ' +
    'count(*) FILTER (WHERE charged > 0)::int8 AS with_charge, sum(paid_online)::int8 AS paid, sum(fee_dossiers)::int8 AS fee_dossiers',
);

/** Per-procedure sums a summary is made of (integers: a unit's or a day's counts fit in 32 bits). */
export const PER_PROCEDURE_SUMS = sql.raw(
  'sum(dossiers)::int AS dossiers, sum(fee_dossiers)::int AS fee_dossiers, sum(paid_online)::int AS paid_online, sum(charged)::int AS charged',
);

export const summaryOf = (r: Record<string, unknown>): Summary => ({
  withDossiers: Number(r.with_dossiers ?? 0),
  withPayment: Number(r.with_payment ?? 0),
  withCharge: Number(r.with_charge ?? 0),
  paid: Number(r.paid ?? 0),
  feeDossiers: Number(r.fee_dossiers ?? 0),
});

/** Per procedure (every procedure: the online-submission rate counts them all), over the scope and range. */
async function procedureSums(ctx: ServiceContext, scope: Scope, range: DateRange): Promise<ProcedureSums[]> {
  const rows = await queryRows<Record<string, unknown>>(
    executor(ctx),
    sql`
    SELECT r.procedure_code, sum(r.dossiers)::int8 AS dossiers, sum(r.dossiers - r.zero_fee)::int8 AS fee_dossiers,
           sum(r.paid_online)::int8 AS paid_online, sum(CASE WHEN ${receivesSql('a', 'p')} THEN r.charged ELSE 0 END)::int8 AS charged,
           sum(r.online_submitted)::int8 AS online_submitted
    FROM indicator_daily r JOIN agencies a ON a.code = r.agency_code JOIN procedures p ON p.code = r.procedure_code
    WHERE r.received_date BETWEEN ${range.from}::date AND ${range.to}::date AND strpos(a.path, ${scope.marker}) > 0
    GROUP BY r.procedure_code`,
  );
  return rows.map((r) => ({
    procedureCode: String(r.procedure_code),
    dossiers: Number(r.dossiers),
    feeDossiers: Number(r.fee_dossiers),
    paidOnline: Number(r.paid_online),
    charged: Number(r.charged),
    onlineSubmitted: Number(r.online_submitted),
  }));
}

/** One summary per child of the scope ('' for the scope agency's own dossiers), fee-bearing procedures only. */
async function childSummaries(ctx: ServiceContext, scope: Scope, range: DateRange, procedureCode?: string): Promise<Map<string, Summary>> {
  const rows = await queryRows<Record<string, unknown>>(
    executor(ctx),
    sql`
    WITH cells AS (${feeBearingCells(scope, [range], vnDate(ctx.now()), procedureCode)}),
    per AS (SELECT child, procedure_code, ${PER_PROCEDURE_SUMS} FROM cells GROUP BY child, procedure_code)
    SELECT child, ${SUMMARY_SQL} FROM per GROUP BY child`,
  );
  return new Map(rows.map((r) => [String(r.child), summaryOf(r)]));
}

export type UnitRatio = { agency: AgencyRef & { parentCode: string | null } } & Ratio;

/** Indicator c's counts per receiving unit of the scope over the range, with the unit's name. */
async function unitRatios(ctx: ServiceContext, scope: Scope, range: DateRange): Promise<UnitRatio[]> {
  const rows = await queryRows<Record<string, unknown>>(
    executor(ctx),
    sql`
    WITH cells AS (${feeBearingCells(scope, [range], vnDate(ctx.now()))})
    SELECT u.code, u.name, u.level, u.parent_code, sum(c.paid_online)::int8 AS paid, sum(c.fee_dossiers)::int8 AS fee_dossiers
    FROM cells c JOIN agencies u ON u.code = c.agency_code
    GROUP BY u.code, u.name, u.level, u.parent_code`,
  );
  return rows.map((r) => ({
    agency: { code: String(r.code), name: String(r.name), level: String(r.level), parentCode: (r.parent_code as string | null) ?? null },
    numerator: Number(r.paid),
    denominator: Number(r.fee_dossiers),
  }));
}

function indicatorsOf(rows: Iterable<ProcedureCounts>, facts: CatalogueFacts, settings: IndicatorSettings): IndicatorSet {
  return scoreAll(indicatorRatios(rows, facts, settings.integrationSource), settings.scoring);
}

export interface IndicatorReport extends IndicatorSet {
  agency: AgencyRef;
  from: string;
  to: string;
  integrationSource: IndicatorSettings['integrationSource'];
  /** The related indicator a campaign watches: dossiers filed online (KenhThucHien 2), of all. */
  onlineSubmission: { numerator: number; denominator: number; rate: number | null };
}

/** `GET /v1/indicators/online-payment`: the three indicators of a subtree over a period. */
export async function onlinePaymentIndicators(
  ctx: ServiceContext,
  principal: Principal,
  agencyCode: string | undefined,
  range: DateRange,
): Promise<IndicatorReport> {
  const scope = await resolveScope(ctx, principal, agencyCode);
  const [{ facts }, cells] = await Promise.all([feeBearingCatalogue(ctx, scope), procedureSums(ctx, scope, range)]);
  const settings = ctx.settings.indicators;
  const submitted = cells.reduce((s, c) => ({ numerator: s.numerator + c.onlineSubmitted, denominator: s.denominator + c.dossiers }), {
    numerator: 0,
    denominator: 0,
  });
  return {
    agency: agencyRef(scope),
    from: range.from,
    to: range.to,
    ...indicatorsOf(cells, facts, settings),
    integrationSource: settings.integrationSource,
    onlineSubmission: { ...submitted, rate: rateOf(submitted.numerator, submitted.denominator) },
  };
}

export interface BreakdownItem extends IndicatorSet {
  agency?: AgencyRef & { direct: boolean };
  procedure?: CatalogueProcedure;
}

/**
 * The same numbers per child unit (each with its subtree; the scope agency's own dossiers as a
 * row of their own when it has any) or per fee-bearing procedure of the catalogue. Per child
 * unit, `procedureCode` narrows the counts to one procedure (and the catalogue to it).
 */
export async function onlinePaymentBreakdown(
  ctx: ServiceContext,
  principal: Principal,
  agencyCode: string | undefined,
  range: DateRange,
  by: 'agency' | 'procedure',
  procedureCode?: string,
) {
  const scope = await resolveScope(ctx, principal, agencyCode);
  const settings = ctx.settings.indicators;
  const catalogue = await feeBearingCatalogue(ctx, scope);
  const { procedures } = catalogue;
  let { facts } = catalogue;
  const head = { agency: agencyRef(scope), from: range.from, to: range.to, by, integrationSource: settings.integrationSource };
  if (procedureCode !== undefined) {
    const procedure = procedures.get(procedureCode);
    if (!procedure) throw notFound(`fee-bearing procedure ${procedureCode}`);
    facts = catalogueOfOne(procedure, facts);
  }
  if (by === 'procedure') {
    const totals = new Map((await procedureSums(ctx, scope, range)).map((row) => [row.procedureCode, row]));
    const items: BreakdownItem[] = [...procedures.values()].map((procedure) => {
      const row = totals.get(procedure.code) ?? emptyCounts(procedure.code);
      return { procedure, ...indicatorsOf([row], catalogueOfOne(procedure, facts), settings) };
    });
    return { ...head, items };
  }
  const [children, byChild] = await Promise.all([childAgencies(ctx, scope), childSummaries(ctx, scope, range, procedureCode)]);
  const scored = (summary: Summary, child: string) =>
    scoreAll(ratiosOf(summary, childFacts(catalogue, child, facts), settings.integrationSource), settings.scoring);
  const items: BreakdownItem[] = children.map((child) => ({
    agency: { ...agencyRef(child), direct: false },
    ...scored(byChild.get(child.code) ?? emptySummary(), child.code),
  }));
  const own = byChild.get('');
  if (own) items.unshift({ agency: { ...agencyRef(scope), direct: true }, ...scored(own, '') });
  return { ...head, ...(procedureCode === undefined ? {} : { procedure: procedures.get(procedureCode) }), items };
}

/**
 * One procedure as a catalogue of its own: b then asks whether this one is integrated, of a
 * scope that can receive it (otherwise b has nothing to count there).
 */
function catalogueOfOne(procedure: CatalogueProcedure, facts: CatalogueFacts): CatalogueFacts {
  const one = new Set([procedure.code]);
  return {
    feeBearing: one,
    integrated: procedure.integrated ? one : new Set(),
    receivable: facts.receivable.has(procedure.code) ? one : new Set(),
  };
}

const emptyCounts = (procedureCode: string): ProcedureCounts => ({
  procedureCode,
  dossiers: 0,
  feeDossiers: 0,
  paidOnline: 0,
  charged: 0,
});

export async function childAgencies(ctx: ServiceContext, scope: Scope) {
  return executor(ctx)
    .select({ code: agencies.code, name: agencies.name, level: agencies.level, parentCode: agencies.parentCode })
    .from(agencies)
    .where(eq(agencies.parentCode, scope.code))
    .orderBy(agencies.code);
}

// ── What to do next ──────────────────────────────────────────────────────────────────────

export interface ActionLists {
  /** (a) Fee-bearing procedures with dossiers but none paid online: the first payment moves a. */
  proceduresWithoutOnlinePayment: Array<CatalogueProcedure & { dossiers: number; feeDossiers: number }>;
  /** (b) Fee-bearing procedures the scope can receive, not counted as integrated. */
  proceduresNotIntegrated: Array<CatalogueProcedure & { dossiers: number; charged: number }>;
  /** (c) Receiving units, lowest dossier rate first, with what each needs to reach the target. */
  unitsByDossierRate: Array<{
    agency: AgencyRef & { parentCode: string | null };
    numerator: number;
    denominator: number;
    rate: number | null;
    needed: number;
  }>;
}

/**
 * The lists that tell a campaign manager where to push, from per-procedure totals and
 * per-unit dossier counts of fee-bearing procedures over the same scope and period.
 */
export function actionLists(
  totals: Map<string, ProcedureCounts>,
  units: UnitRatio[],
  catalogue: Pick<ScopedCatalogue, 'facts' | 'procedures'>,
  settings: IndicatorSettings,
  target: number | string,
): ActionLists {
  const all = [...catalogue.procedures.values()].map((p) => ({ p, row: totals.get(p.code) ?? emptyCounts(p.code) }));
  return {
    proceduresWithoutOnlinePayment: all
      .filter(({ row }) => row.dossiers > 0 && row.paidOnline === 0)
      .sort((x, y) => y.row.feeDossiers - x.row.feeDossiers || x.p.code.localeCompare(y.p.code))
      .map(({ p, row }) => ({ ...p, dossiers: row.dossiers, feeDossiers: row.feeDossiers })),
    // A unit is not asked to integrate what it cannot receive (a commune and a provincial procedure).
    proceduresNotIntegrated: all
      .filter(({ p }) => catalogue.facts.receivable.has(p.code))
      .filter(({ p, row }) => (settings.integrationSource === 'dossiers' ? row.charged === 0 : !p.integrated))
      .sort((x, y) => y.row.dossiers - x.row.dossiers || x.p.code.localeCompare(y.p.code))
      .map(({ p, row }) => ({ ...p, dossiers: row.dossiers, charged: row.charged })),
    unitsByDossierRate: units
      .filter((u) => u.denominator > 0)
      .map((u) => ({ ...u, rate: rateOf(u.numerator, u.denominator), needed: neededForTarget(u, target) }))
      .sort(
        (x, y) =>
          x.numerator / x.denominator - y.numerator / y.denominator || y.needed - x.needed || x.agency.code.localeCompare(y.agency.code),
      ),
  };
}

/** `GET /v1/indicators/online-payment/actions`. `target`: the dossier rate units should reach. */
export async function onlinePaymentActions(
  ctx: ServiceContext,
  principal: Principal,
  agencyCode: string | undefined,
  range: DateRange,
  target?: number,
) {
  const scope = await resolveScope(ctx, principal, agencyCode);
  const settings = ctx.settings.indicators;
  const catalogue = await feeBearingCatalogue(ctx, scope);
  const [procedures, units] = await Promise.all([procedureSums(ctx, scope, range), unitRatios(ctx, scope, range)]);
  const goal = target ?? Number(settings.scoring.dossierOnlinePayment.threshold);
  const lists = actionLists(new Map(procedures.map((row) => [row.procedureCode, row])), units, catalogue, settings, goal);
  return {
    agency: agencyRef(scope),
    from: range.from,
    to: range.to,
    target: goal,
    integrationSource: settings.integrationSource,
    ...lists,
  };
}
