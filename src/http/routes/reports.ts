import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { addDays } from '../../domain/dates.ts';
import { type CollectionsQuery, collectionsReport, MAX_REPORT_DAYS } from '../../services/collections-report.ts';
import { onReplica } from '../../services/context.ts';
import { ServiceError } from '../../services/errors.ts';
import { receiptRegister } from '../../services/receipt-register.ts';
import { spreadsheetsOrRefuse, XLSX_CONTENT_TYPE } from '../../services/spreadsheets.ts';
import { collectionsFileName, collectionsSheet } from '../../web/collections-export.ts';
import { csvOf, csvResponse, xlsxResponse } from '../../web/downloads.ts';
import { receiptRegisterFileName, receiptRegisterSheet } from '../../web/receipt-register-export.ts';
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

const RegisterRowSchema = z
  .object({
    issuedDate: z.string(),
    issuedAt: z.string(),
    collectorCode: z.string(),
    collectorName: z.string(),
    collectorTaxCode: z.string().nullable(),
    formSymbol: z.string(),
    seriesSymbol: z.string(),
    number: z.number().int(),
    kind: z.enum(['original', 'adjusting', 'replacing']),
    corrects: z
      .object({ formSymbol: z.string(), seriesSymbol: z.string(), number: z.number().int(), issuedDate: z.string() })
      .nullable()
      .openapi({ description: 'For a correction: the receipt it adjusts or replaces' }),
    reason: z.string().nullable(),
    issuerName: z.string().nullable().openapi({
      description: "The service provider that issued it on the collector's behalf (the hub's operator); null when the collector signed it",
    }),
    payerName: z.string().nullable(),
    dossierCode: z.string(),
    channel: z.string(),
    gatewayTransactionId: z.string().nullable(),
    lines: z.number().int(),
    total: z.number().int().openapi({ description: 'Integer VND; negative for an adjusting receipt' }),
    lookupCode: z.string(),
    signed: z
      .boolean()
      .openapi({ description: 'Its JWS and XML signatures are written (a receipt is signed just after its payment commits)' }),
  })
  .openapi('ReceiptRegisterRow');

const ReceiptRegisterSchema = z
  .object({
    date: z.string(),
    agency: z.object({ code: z.string(), name: z.string() }).nullable(),
    generatedAt: z.string(),
    rows: z.array(RegisterRowSchema),
    totals: z.object({
      receipts: z.number().int(),
      originals: z.number().int(),
      adjusting: z.number().int(),
      replacing: z.number().int(),
      total: z
        .number()
        .int()
        .openapi({ description: 'Receipted net: originals and adjustments (a replacement restates money already counted)' }),
    }),
  })
  .openapi('ReceiptRegister');

const registerExample: z.infer<typeof ReceiptRegisterSchema> = {
  date: '2026-12-04',
  agency: null,
  generatedAt: '2026-12-04T10:00:00.000Z',
  rows: [
    {
      issuedDate: '2026-12-04',
      issuedAt: '2026-12-04T02:15:00.000Z',
      collectorCode: '000.01.15.H19',
      collectorName: 'Phòng Cảnh sát giao thông - Công an tỉnh Đồng Nai',
      collectorTaxCode: '3600123456',
      formSymbol: 'EBL01',
      seriesSymbol: '26TGT',
      number: 42,
      kind: 'original',
      corrects: null,
      reason: null,
      issuerName: 'Trung tâm vận hành Cổng thanh toán phí, lệ phí',
      payerName: 'Nguyễn Văn An',
      dossierCode: '000.01.15.H19-261204-0042',
      channel: 'vnpay',
      gatewayTransactionId: '14226112',
      lines: 1,
      total: 135_000,
      lookupCode: '7KQ29XMA4RTBZP3C8WNE',
      signed: true,
    },
  ],
  totals: { receipts: 1, originals: 1, adjusting: 0, replacing: 0, total: 135_000 },
};

const registerRoute = createRoute({
  method: 'get',
  path: '/v1/reports/receipts',
  operationId: 'getReceiptRegister',
  tags: ['Reports'],
  summary: "The day's receipt register (bảng kê biên lai), JSON, CSV or XLSX",
  description:
    'Every receipt issued on `date` (Asia/Ho_Chi_Minh) by the collecting organisations of your scope, originals and corrections, in series order: ' +
    'the data an organisation using e-receipts sends the tax authority the same day (Decree 254/2026/NĐ-CP). ' +
    '`format=csv`: UTF-8 with a byte-order mark, ISO dates, plain integers (an adjustment negative). `format=xlsx`: real dates, Vietnamese headers, the totals under the rows ' +
    '(406 on a host without a spreadsheet writer, such as Workers). `agency` narrows to one subtree.',
  security: [{ bearerAuth: [] }],
  middleware: [allow('treasury', 'admin')] as const,
  request: {
    query: z.object({
      date: isoDate.openapi({ description: 'The day the receipts were issued', example: '2026-12-04' }),
      agency: agencyCode.optional().openapi({ description: "Only this agency's subtree (default: all of yours)" }),
      format: z.enum(['json', 'csv', 'xlsx']).default('json'),
    }),
  },
  responses: {
    200: {
      description: 'The register',
      content: {
        'application/json': { schema: ReceiptRegisterSchema, example: registerExample },
        'text/csv': { schema: z.string(), example: csvOf(receiptRegisterSheet(registerExample)) },
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
  app.openapi(registerRoute, async (c) => {
    const q = c.req.valid('query');
    const ctx = c.get('ctx');
    if (q.format === 'xlsx') spreadsheetsOrRefuse(ctx.spreadsheets);
    const register = await onReplica(ctx, (ctx) => receiptRegister(ctx, principalOf(c), { date: q.date, agency: q.agency }));
    if (q.format === 'csv') return csvResponse(c, receiptRegisterFileName(register), receiptRegisterSheet(register)) as never;
    if (q.format === 'xlsx') {
      return (await xlsxResponse(
        c,
        ctx.spreadsheets,
        receiptRegisterFileName(register),
        [receiptRegisterSheet(register)],
        ctx.now(),
      )) as never;
    }
    return c.json(register, 200);
  });

  app.openapi(reportRoute, async (c) => {
    const q = c.req.valid('query');
    const ctx = c.get('ctx');
    // Refused before any work: a host without a spreadsheet writer cannot answer XLSX.
    if (q.format === 'xlsx') spreadsheetsOrRefuse(ctx.spreadsheets);
    const report = await onReplica(ctx, (ctx) => collectionsReport(ctx, principalOf(c), { ...periodOf(q), agency: q.agency }));
    if (q.format === 'csv') return csvResponse(c, collectionsFileName(report), collectionsSheet(report)) as never;
    if (q.format === 'xlsx') {
      return (await xlsxResponse(c, ctx.spreadsheets, collectionsFileName(report), [collectionsSheet(report)], ctx.now())) as never;
    }
    return c.json(report, 200);
  });
}
