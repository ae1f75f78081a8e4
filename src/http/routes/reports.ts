import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { addDays } from '../../domain/dates.ts';
import { type CollectionsQuery, collectionsReport, MAX_REPORT_DAYS } from '../../services/collections-report.ts';
import { ServiceError } from '../../services/errors.ts';
import { spreadsheetsOrRefuse, XLSX_CONTENT_TYPE } from '../../services/spreadsheets.ts';
import { collectionsFileName, collectionsSheet } from '../../web/collections-export.ts';
import { csvOf, csvResponse, xlsxResponse } from '../../web/downloads.ts';
import type { AppEnv } from '../env.ts';
import { allow, principalOf } from '../middleware/auth.ts';
import { errorResponses, SECURED } from '../openapi-errors.ts';
import { agencyCode, isoDate, vndAmount } from '../schemas.ts';

const money = (description: string) => vndAmount.openapi({ description });
/** Net amounts (collected less refunded) may be negative: a period with more refunds than payments. */
const signedMoney = (description: string) => z.number().int().openapi({ description });

const CollectionRowSchema = z
  .object({
    agencyCode: z.string(),
    agencyName: z.string(),
    collectionAccount: z.string().nullable().openapi({ description: "The fee rule's collection account" }),
    kind: z.enum(['phi', 'le_phi']).openapi({ description: 'phí (the agency may keep a share) or lệ phí (wholly to the state budget)' }),
    feeCode: z.string(),
    feeName: z.string(),
    budgetChapter: z.string().nullable().openapi({ description: 'Mã chương' }),
    budgetSubItem: z.string().nullable().openapi({ description: 'Tiểu mục' }),
    budgetAccount: z.string().nullable().openapi({ description: 'The State Treasury account (7111…)' }),
    retainedPercent: z.string().nullable().openapi({ description: 'The share a phí keeps, in percent (two decimals); null for a lệ phí' }),
    budgetCodesDemo: z.boolean().openapi({ description: "The codes are the demo's invented values" }),
    channel: z.string().openapi({ description: 'The gateway (vnpay, vietqr, dvcqg, sandbox) or `counter`' }),
    online: z.boolean(),
    payments: z.number().int().openapi({ description: 'Payments collected in the period on this row' }),
    lines: z.number().int().openapi({ description: 'Fee lines collected in the period on this row' }),
    collected: money('Collected in the period (gross), integer VND'),
    refunds: z.number().int().openapi({ description: 'Refunds completed in the period that returned money of this row' }),
    refunded: money('Given back by refunds completed in the period, whenever their payment was collected'),
    net: signedMoney('collected − refunded'),
    remit: signedMoney('To remit to the state budget: net − retained'),
    retained: signedMoney('Kept by the agency: net × retainedPercent, rounded half-up to the đồng (0 for a lệ phí)'),
  })
  .openapi('CollectionRow');

const CollectionsReportSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    agency: z.object({ code: z.string(), name: z.string() }).nullable(),
    generatedAt: z.string(),
    rows: z.array(CollectionRowSchema),
    totals: CollectionRowSchema.pick({
      payments: true,
      lines: true,
      collected: true,
      refunds: true,
      refunded: true,
      net: true,
      remit: true,
      retained: true,
    }),
  })
  .openapi('CollectionsReport');

const exampleRow: z.infer<typeof CollectionRowSchema> = {
  agencyCode: '000.00.25.H19',
  agencyName: 'Sở Tài nguyên và Môi trường tỉnh Đồng Nai',
  collectionAccount: 'Kho bạc Nhà nước: tài khoản thu ngân sách nhà nước (demo)',
  kind: 'phi',
  feeCode: 'PTDGCN',
  feeName: 'Phí thẩm định hồ sơ cấp giấy chứng nhận',
  budgetChapter: '426',
  budgetSubItem: '2663',
  budgetAccount: '7111',
  retainedPercent: '30.00',
  budgetCodesDemo: true,
  channel: 'vnpay',
  online: true,
  payments: 3,
  lines: 3,
  collected: 1_500_005,
  refunds: 1,
  refunded: 500_000,
  net: 1_000_005,
  remit: 700_003,
  retained: 300_002,
};

const reportRoute = createRoute({
  method: 'get',
  path: '/v1/reports/collections',
  operationId: 'collectionsReport',
  tags: ['Reports'],
  summary: "Collections and the budget's share, per agency, account, fee code, budget codes and channel",
  description:
    'Payments collected on the business days asked (`date`, or `from` and `to`: their `succeeded_at` date in Asia/Ho_Chi_Minh; at most 366 days), per agency, collection account, fee code, ' +
    'budget codes (chapter, sub-item, account) and channel (each gateway, or `counter`): counts, the gross collected, refunds completed in the period (whenever their payment was collected: ' +
    'a payment and its refund are each counted once, in their own periods), the net, what is remitted to the state budget and what the agency keeps ' +
    '(a lệ phí: nothing; a phí: net × retainedPercent rounded half-up to the đồng; remit + retained = net on every row). ' +
    '`format=csv`: UTF-8 with a byte-order mark, ISO dates, plain integers, the share as a fraction. `format=xlsx`: real dates, number formats, Vietnamese headers ' +
    '(406 on a host without a spreadsheet writer, such as Workers). Scoped to your agencies; `agency` narrows to one subtree.',
  security: [{ bearerAuth: [] }],
  middleware: [allow('treasury', 'admin')] as const,
  request: {
    query: z.object({
      date: isoDate.optional().openapi({ description: 'One business day (instead of from/to)', example: '2026-11-20' }),
      from: isoDate.optional().openapi({ description: 'First business day', example: '2026-11-01' }),
      to: isoDate.optional().openapi({ description: 'Last business day (included)', example: '2026-11-30' }),
      agency: agencyCode.optional().openapi({ description: "Only this agency's subtree (default: all of yours)" }),
      format: z.enum(['json', 'csv', 'xlsx']).default('json'),
    }),
  },
  responses: {
    200: {
      description: 'The report',
      content: {
        'application/json': {
          schema: CollectionsReportSchema,
          example: {
            from: '2026-11-20',
            to: '2026-11-20',
            agency: null,
            generatedAt: '2026-11-21T01:00:00.000Z',
            rows: [exampleRow],
            totals: {
              payments: 3,
              lines: 3,
              collected: 1_500_005,
              refunds: 1,
              refunded: 500_000,
              net: 1_000_005,
              remit: 700_003,
              retained: 300_002,
            },
          },
        },
        'text/csv': {
          schema: z.string(),
          example: csvOf(
            collectionsSheet({
              from: '2026-11-20',
              to: '2026-11-20',
              agency: null,
              generatedAt: '',
              rows: [exampleRow],
              totals: exampleRow,
            }),
          ),
        },
        [XLSX_CONTENT_TYPE]: { schema: z.string().openapi({ format: 'binary' }), example: '(an XLSX workbook)' },
      },
    },
    ...errorResponses([...SECURED, 'not-found', 'not-acceptable']),
  },
});

/** `date`, or `from` and `to`, as a checked period. */
function periodOf(q: { date?: string; from?: string; to?: string }): Pick<CollectionsQuery, 'from' | 'to'> {
  const refuse = (message: string, path: string) => new ServiceError('validation-failed', message, [{ path: `query.${path}`, message }]);
  if (q.date) {
    if (q.from || q.to) throw refuse('give either date, or from and to', 'date');
    return { from: q.date, to: q.date };
  }
  if (!q.from || !q.to) throw refuse('give date, or both from and to', q.from ? 'to' : 'from');
  if (q.to < q.from) throw refuse('to is before from', 'to');
  if (addDays(q.from, MAX_REPORT_DAYS - 1) < q.to) throw refuse(`at most ${MAX_REPORT_DAYS} days`, 'to');
  return { from: q.from, to: q.to };
}

export function registerReportRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(reportRoute, async (c) => {
    const q = c.req.valid('query');
    const ctx = c.get('ctx');
    // Refused before any work: a host without a spreadsheet writer cannot answer XLSX.
    if (q.format === 'xlsx') spreadsheetsOrRefuse(ctx.spreadsheets);
    const report = await collectionsReport(ctx, principalOf(c), { ...periodOf(q), agency: q.agency });
    if (q.format === 'csv') return csvResponse(c, collectionsFileName(report), collectionsSheet(report)) as never;
    if (q.format === 'xlsx') {
      return (await xlsxResponse(c, ctx.spreadsheets, collectionsFileName(report), [collectionsSheet(report)], ctx.now())) as never;
    }
    return c.json(report, 200);
  });
}
