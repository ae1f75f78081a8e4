import { z } from '@hono/zod-openapi';
import { type DateRange, daysBetween, PeriodError, periodKinds, periodRange } from '../domain/indicators.ts';
import { ServiceError } from '../services/errors.ts';
import { hints } from './problem-language.ts';
import { agencyCode, isoDate } from './schemas.ts';

/** Schemas of the 766 indicator and campaign routes (request validation and OpenAPI alike). */

export const PeriodQuerySchema = z.object({
  agency: agencyCode.optional().openapi({ description: "The agency whose subtree is counted (default: the caller's one scope root)" }),
  from: isoDate.optional().openapi({ description: 'First receipt date counted (Asia/Ho_Chi_Minh), with `to`', example: '2026-11-01' }),
  to: isoDate.optional().openapi({ description: 'Last receipt date counted, inclusive', example: '2026-11-30' }),
  period: z.enum(periodKinds).optional().openapi({ description: 'A reporting period of `year`, instead of from/to' }),
  year: z.coerce.number().int().min(1900).max(9999).optional().openapi({ example: 2026 }),
  index: z.coerce.number().int().min(1).max(12).optional().openapi({ description: 'Month 1–12, quarter 1–4, half 1–2' }),
});
export type PeriodQuery = z.infer<typeof PeriodQuerySchema>;

/** At most ten years per query: the roll-ups make it cheap, but not free. */
const MAX_DAYS = 3660;

/** The dates a query counts: from/to, or a period of a year; a clear 400 otherwise. */
export function rangeOf(q: PeriodQuery): DateRange {
  const invalid = (path: string, message: string) => new ServiceError('validation-failed', message, [{ path: `query.${path}`, message }]);
  let range: DateRange;
  if (q.period !== undefined) {
    if (q.from !== undefined || q.to !== undefined) throw invalid('period', 'give either from/to or period, not both');
    if (q.year === undefined) throw invalid('year', `a ${q.period} needs a year`);
    try {
      range = periodRange(q.period, q.year, q.index);
    } catch (error) {
      if (error instanceof PeriodError) throw invalid(error.field, error.message);
      throw error;
    }
  } else {
    if (q.from === undefined || q.to === undefined)
      throw invalid(q.from === undefined ? 'from' : 'to', 'give from and to, or period and year');
    if (q.year !== undefined || q.index !== undefined) throw invalid('year', 'year and index go with period');
    range = { from: q.from, to: q.to };
  }
  if (range.to < range.from) throw invalid('to', 'to is before from');
  if (daysBetween(range.from, range.to) > MAX_DAYS) throw invalid('to', `at most ${MAX_DAYS} days at a time`);
  return range;
}

const IndicatorValueSchema = z
  .object({
    numerator: z.number().int(),
    denominator: z.number().int(),
    rate: z.number().nullable().openapi({ description: 'numerator / denominator, 4 decimals; null when the denominator is 0' }),
    points: z.number().nullable().openapi({ description: 'As the portal scores the rate (configurable curve), 2 decimals' }),
    maxPoints: z.number(),
  })
  .openapi('IndicatorValue');

const indicatorFields = {
  procedureOnlinePayment: IndicatorValueSchema.openapi({
    description: '(a) fee-bearing procedures with a dossier paid online / with a dossier',
  }),
  procedureIntegration: IndicatorValueSchema.openapi({
    description:
      '(b) fee-bearing procedures integrated / fee-bearing procedures of the catalogue, now, that the unit (its subtree) can receive',
  }),
  dossierOnlinePayment: IndicatorValueSchema.openapi({
    description: '(c) dossiers paid online / dossiers of fee-bearing procedures less those priced all zero',
  }),
  points: z.number(),
  maxPoints: z.number(),
};
const IndicatorSetSchema = z.object(indicatorFields).openapi('IndicatorSet');

const AgencyRefSchema = z.object({ code: z.string(), name: z.string(), level: z.string() });
const integrationSource = z
  .enum(['dossiers', 'catalogue'])
  .openapi({ description: 'Where b counts integration from (INDICATOR_B_NUMERATOR)' });

export const IndicatorReportSchema = z
  .object({
    agency: AgencyRefSchema,
    from: z.string(),
    to: z.string(),
    ...indicatorFields,
    integrationSource,
    onlineSubmission: z.object({ numerator: z.number().int(), denominator: z.number().int(), rate: z.number().nullable() }),
  })
  .openapi('OnlinePaymentIndicators');

const CatalogueProcedureSchema = z.object({ code: z.string(), name: z.string(), integrated: z.boolean() });

export const BreakdownSchema = z
  .object({
    agency: AgencyRefSchema,
    from: z.string(),
    to: z.string(),
    by: z.enum(['agency', 'procedure']),
    integrationSource,
    procedure: CatalogueProcedureSchema.optional().openapi({ description: 'The one procedure counted, when asked for' }),
    items: z.array(
      z.object({
        agency: AgencyRefSchema.extend({
          direct: z.boolean().openapi({ description: "The scope agency's own dossiers, not a child's" }),
        }).optional(),
        procedure: CatalogueProcedureSchema.optional(),
        ...indicatorFields,
      }),
    ),
  })
  .openapi('OnlinePaymentBreakdown');

const ActionListsSchema = z
  .object({
    proceduresWithoutOnlinePayment: z.array(CatalogueProcedureSchema.extend({ dossiers: z.number().int(), feeDossiers: z.number().int() })),
    proceduresNotIntegrated: z.array(CatalogueProcedureSchema.extend({ dossiers: z.number().int(), charged: z.number().int() })),
    unitsByDossierRate: z.array(
      z.object({
        agency: AgencyRefSchema.extend({ parentCode: z.string().nullable() }),
        numerator: z.number().int(),
        denominator: z.number().int(),
        rate: z.number().nullable(),
        needed: z.number().int().openapi({ description: 'More dossiers paid online to reach the target rate' }),
      }),
    ),
  })
  .openapi('ActionLists');

export const ActionsSchema = z
  .object({ agency: AgencyRefSchema, from: z.string(), to: z.string(), target: z.number(), integrationSource })
  .extend(ActionListsSchema.shape)
  .openapi('OnlinePaymentActions');

/**
 * A rate as a fraction. A percentage given instead (80) is told what it should have been (0.8),
 * once: the checks after a failed bound do not run.
 */
const rate = z
  .number()
  .min(0, { error: (issue) => hints.fraction.en(issue.input), abort: true })
  .max(1, { error: (issue) => hints.fraction.en(issue.input), abort: true })
  .multipleOf(0.0001, hints.fourDecimals.en());

export const CampaignInputSchema = z
  .object({
    name: z.string().trim().min(3).max(200).openapi({ example: 'Chiến dịch 30 ngày nâng cao tỷ lệ thanh toán trực tuyến' }),
    agencyCode,
    startDate: isoDate.openapi({ example: '2026-11-10' }),
    days: z.number().int().min(1).max(366).default(30),
    targets: z
      .object({
        procedureOnlinePayment: rate.nullable().optional(),
        procedureIntegration: rate.nullable().optional(),
        dossierOnlinePayment: rate.openapi({ description: 'The dossier rate (c) aimed at, e.g. 0.7' }),
      })
      .strict()
      .openapi({ description: 'Rates from 0 to 1, at most 4 decimals' }),
    baseline: z
      .object({ from: isoDate, to: isoDate })
      .strict()
      .optional()
      .openapi({ description: 'Compared with (default: the same number of days just before the start)' }),
  })
  .strict()
  .refine((c) => Date.parse(`${c.startDate}T00:00:00Z`) + (c.days - 1) * 86_400_000 <= Date.UTC(9999, 11, 31), {
    message: hints.campaignEnd.en(),
    path: ['days'],
    // Only about a start and a length that are valid themselves, in a body that is an object of
    // known members: a start in another form is one issue, on startDate, not a second on days.
    when: (payload) =>
      payload.issues.every((issue) => {
        const field = issue.path?.[0];
        return field !== undefined && field !== 'startDate' && field !== 'days';
      }),
  })
  .openapi('CampaignInput');

export const CampaignSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    agency: AgencyRefSchema,
    startDate: z.string(),
    endDate: z.string(),
    days: z.number().int(),
    baseline: z.object({ from: z.string(), to: z.string() }),
    targets: z.object({
      procedureOnlinePayment: z.number().nullable(),
      procedureIntegration: z.number().nullable(),
      dossierOnlinePayment: z.number().nullable(),
    }),
    createdBy: z.string(),
    createdAt: z.string(),
  })
  .openapi('Campaign');

const RatioSchema = z.object({ numerator: z.number().int(), denominator: z.number().int(), rate: z.number().nullable() });
const ratios = z.object({ procedureOnlinePayment: RatioSchema, procedureIntegration: RatioSchema, dossierOnlinePayment: RatioSchema });
const ProjectionSchema = z.object({
  windowDays: z.number().int(),
  recentRate: z.number().nullable(),
  trendPerDay: z.number().nullable(),
  projectedRate: z.number().nullable(),
  target: z.number().nullable(),
  onTrack: z.boolean().nullable(),
});
const TargetSchema = z.object({
  target: z.number().nullable(),
  rate: z.number().nullable(),
  gap: z.number().nullable(),
  reached: z.boolean().nullable(),
  needed: z.number().int().nullable(),
});

export const CampaignProgressSchema = z
  .object({
    campaign: CampaignSchema,
    agency: AgencyRefSchema.extend({ parentCode: z.string().nullable() }).openapi({
      description: "The unit counted: the campaign's agency, or the one asked for",
    }),
    asOf: z.string(),
    status: z.enum(['scheduled', 'running', 'ended']),
    day: z.number().int(),
    integrationSource: z.string(),
    baseline: IndicatorSetSchema.extend({ from: z.string(), to: z.string() }),
    current: IndicatorSetSchema.extend({ from: z.string(), to: z.string() }),
    targets: z.object({ procedureOnlinePayment: TargetSchema, procedureIntegration: TargetSchema, dossierOnlinePayment: TargetSchema }),
    series: z.array(z.object({ date: z.string(), day: z.number().int(), cumulative: ratios, daily: ratios })),
    projection: z.object({
      endDate: z.string(),
      remainingDays: z.number().int(),
      procedureOnlinePayment: ProjectionSchema,
      procedureIntegration: ProjectionSchema,
      dossierOnlinePayment: ProjectionSchema,
    }),
    leaderboard: z.array(
      z.object({
        agency: AgencyRefSchema.extend({ direct: z.boolean() }),
        baseline: IndicatorSetSchema,
        current: IndicatorSetSchema,
        change: z.number().nullable(),
        gap: z.number().nullable(),
        needed: z.number().int().nullable(),
      }),
    ),
    actions: ActionListsSchema,
  })
  .openapi('CampaignProgress');

export const DvcqgSyncSchema = z
  .object({
    MaHoSo: z.string(),
    MaTTHC: z.string(),
    KenhThucHien: z.union([z.literal(1), z.literal(2), z.literal(3)]).openapi({ description: '1 in person, 2 online, 3 postal' }),
    DanhSachLePhi: z.array(
      z.object({
        TenPhiLePhi: z.string(),
        MaPhiLePhi: z.string(),
        HinhThucThu: z.number().int().openapi({ description: 'How the line is collected (DVCQG_SYNC_COLLECTION_FORMS)' }),
        Gia: z.number().int().openapi({ description: 'Integer VND; zero-priced lines included' }),
        LoaiPhiLePhi: z.enum(['1', '2']),
      }),
    ),
    DuocThanhToanTrucTuyen: z.union([z.literal(0), z.literal(1), z.literal(2)]),
  })
  .openapi('DvcqgSync');
