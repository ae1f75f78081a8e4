import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { createMiddleware } from 'hono/factory';
import { lookupDossierPayment } from '../../services/dvcqg-lookup.ts';
import type { ErrorCode } from '../../services/errors.ts';
import type { AppEnv } from '../env.ts';
import { allow, principalOf } from '../middleware/auth.ts';
import { errorResponses, JSON_BODY, SECURED } from '../openapi-errors.ts';
import { EXAMPLE_DOSSIER_CODE, ProblemSchema } from '../schemas.ts';

const LookupRequestSchema = z
  .object({ MaHoSo: z.string().trim().min(1).max(64).openapi({ example: EXAMPLE_DOSSIER_CODE }) })
  .strict()
  .openapi('DvcqgPaymentLookupRequest');

const digits = z
  .string()
  .regex(/^\d+$/)
  .openapi({ description: "Integer VND, as a string like the platform's messages", example: '135000' });

const text = (description: string, example?: string) => z.string().openapi({ description, ...(example ? { example } : {}) });

const PayableBillSchema = z
  .object({
    transaction_id: text("The look-up's own code (the hub keeps no state per look-up): the same as MaTraCuuTT"),
    client_id: text('The partner code the platform knows the province by (DVCQG_PARTNER_CODE)', 'HCC_DONGNAI'),
    MaTraCuuTT: text("The dossier code followed by the look-up's time, yyyyMMddHHmmss in GMT+7"),
    MaDichVu: z.literal('2').openapi({ description: '2: procedure fees and charges' }),
    MaHoSo: z.string(),
    MaDVC: text('The national public-service code: the procedure code and DVCQG_SERVICE_CODE_SUFFIX'),
    TenDVC: z.string(),
    MaTTHC: text('National procedure code'),
    TenTTHC: z.string(),
    MaDonVi: text("The dossier's agency code"),
    TenDonVi: z.string(),
    TKThuHuong: text('The payee account: the agency’s collection account, or the nearest one above it', '113000123456'),
    MaNHThuHuong: text("The payee account's bank (BIN)", '970415'),
    TenTKThuHuong: text("The payee account's name"),
    TaiKhoanThuNSNN: text('The state-budget account, when every line names the same one', '7111').optional(),
    SoTien: digits.openapi({ description: 'The sum of the unpaid lines' }),
    PhiLePhi: z.array(
      z.object({
        LoaiPhiLePhi: z.enum(['1', '2']).openapi({ description: '1 phí (fee), 2 lệ phí (charge)' }),
        MaPhiLePhi: z.string(),
        TenPhiLePhi: z.string(),
        SoTien: digits,
      }),
    ),
    NoiDungThanhToan: text('What the payment is for (ASCII)'),
    MaCoQuanQD: text('The agency deciding on the dossier and charging the fees: the dossier’s agency'),
    TenCoQuanQD: z.string(),
    KhoBac: text('The State Treasury office (DVCQG_TREASURY; empty by default, as for procedure fees)'),
    NgayQD: text('The day of the look-up, yyyyMMdd'),
    DSKhoanNop: z.array(z.object({ NoiDung: z.string(), SoTien: digits })).openapi({ description: 'The lines as budget items' }),
    HoTenNguoiNop: z.string(),
    SoCMNDNguoiNop: text('Empty: the dossier does not carry the payer’s identity number'),
    DiaChiNguoiNop: z.string(),
  })
  .openapi('DvcqgPayableBill');

const LookupAnswerSchema = z
  .union([
    z.object({ error_code: z.literal(1), message: PayableBillSchema }),
    z.object({ error_code: z.literal(0), message: z.enum(['nothing to pay', 'already paid', 'payment in progress']) }),
    z.object({ error_code: z.literal(-1), message: z.string() }),
  ])
  .openapi('DvcqgPaymentLookup');

const PortalProblemSchema = ProblemSchema.extend({
  error_code: z.literal(-1).optional().openapi({
    description:
      "The portal's own error code, beside the problem details; absent from the hub-wide refusals before the route (token, size, ill-formed text)",
  }),
}).openapi('DvcqgProblem');

/** The problems that the hub-wide middleware answers before this route's own runs. */
const WITHOUT_PORTAL_CODE: ReadonlySet<ErrorCode> = new Set(['unauthenticated', 'payload-too-large']);

/**
 * The portal reads `error_code` alone, so every problem this route answers (a malformed body,
 * a refused role) also carries `error_code: -1`, an extension member of the problem details.
 */
const portalErrorCode = createMiddleware<AppEnv>(async (c, next) => {
  await next();
  if (!c.res.headers.get('content-type')?.startsWith('application/problem+json')) return;
  const problem = (await c.res.json()) as Record<string, unknown>;
  c.res = new Response(JSON.stringify({ ...problem, error_code: -1 }), { status: c.res.status, headers: c.res.headers });
});

const lookupRoute = createRoute({
  method: 'post',
  path: '/v1/dvcqg/payment-lookup',
  operationId: 'dvcqgPaymentLookup',
  tags: ['National portal'],
  summary: 'The national portal looks up what a dossier owes (DPTraCuuThanhToanHS)',
  description:
    'Answers `error_code` 1 with the payment information in the platform’s words (the unpaid lines and their sum, the payee account the money is routed to, `MaTraCuuTT`, `MaDichVu`, `transaction_id`/`client_id`), ' +
    '0 when nothing is payable, it is already paid, or its lines are being paid through another channel (`payment in progress`), ' +
    "-1 for a dossier that does not exist or lies outside the caller's agencies, a hub without the national platform configured, or an agency without a collection account. The route's own problems (role, body) also carry `error_code: -1`.",
  security: [{ bearerAuth: [] }],
  middleware: [portalErrorCode, allow('portal', 'admin')] as const,
  request: {
    body: { required: true, content: { 'application/json': { schema: LookupRequestSchema, example: { MaHoSo: EXAMPLE_DOSSIER_CODE } } } },
  },
  responses: {
    200: {
      description: "The portal's answer",
      content: {
        'application/json': {
          schema: LookupAnswerSchema,
          examples: {
            bill: {
              summary: 'error_code 1: the bill',
              value: {
                error_code: 1,
                message: {
                  transaction_id: `${EXAMPLE_DOSSIER_CODE}20261204101500`,
                  client_id: 'HCC_DONGNAI',
                  MaTraCuuTT: `${EXAMPLE_DOSSIER_CODE}20261204101500`,
                  MaDichVu: '2',
                  MaHoSo: EXAMPLE_DOSSIER_CODE,
                  MaDVC: '3.000347',
                  TenDVC: 'Đổi giấy phép lái xe',
                  MaTTHC: '3.000347',
                  TenTTHC: 'Đổi giấy phép lái xe',
                  MaDonVi: '000.01.15.H19',
                  TenDonVi: 'Phòng Cảnh sát giao thông - Công an tỉnh Đồng Nai',
                  TKThuHuong: '113000123456',
                  MaNHThuHuong: '970415',
                  TenTKThuHuong: 'CONG AN TINH DONG NAI',
                  TaiKhoanThuNSNN: '7111',
                  SoTien: '135000',
                  PhiLePhi: [{ LoaiPhiLePhi: '2', MaPhiLePhi: 'LPGPLX', TenPhiLePhi: 'Lệ phí cấp đổi giấy phép lái xe', SoTien: '135000' }],
                  NoiDungThanhToan: `Thanh toan phi le phi ho so ${EXAMPLE_DOSSIER_CODE}`,
                  MaCoQuanQD: '000.01.15.H19',
                  TenCoQuanQD: 'Phòng Cảnh sát giao thông - Công an tỉnh Đồng Nai',
                  KhoBac: '',
                  NgayQD: '20261204',
                  DSKhoanNop: [{ NoiDung: 'Lệ phí cấp đổi giấy phép lái xe', SoTien: '135000' }],
                  HoTenNguoiNop: 'Nguyễn Văn An',
                  SoCMNDNguoiNop: '',
                  DiaChiNguoiNop: '12 Võ Thị Sáu, Trấn Biên, Đồng Nai',
                },
              },
            },
            inProgress: {
              summary: 'error_code 0: being paid through another channel',
              value: { error_code: 0, message: 'payment in progress' },
            },
            unknown: {
              summary: 'error_code -1: no such dossier in your agencies',
              value: { error_code: -1, message: 'dossier 000.01.15.H19-261120-9999 was not found' },
            },
          },
        },
      },
    },
    ...errorResponses(
      [...SECURED, ...JSON_BODY].filter((code) => !WITHOUT_PORTAL_CODE.has(code)),
      { schema: PortalProblemSchema, extra: () => ({ error_code: -1 }) },
    ),
    ...errorResponses([...WITHOUT_PORTAL_CODE]),
  },
});

export function registerDvcqgRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(lookupRoute, async (c) => {
    const { MaHoSo } = c.req.valid('json');
    return c.json(await lookupDossierPayment(c.get('ctx'), principalOf(c), MaHoSo), 200);
  });
}
