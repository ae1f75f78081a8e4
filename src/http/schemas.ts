import { z } from '@hono/zod-openapi';
import { agencyLevels } from '../db/schema/agencies.ts';
import { refundStatuses } from '../db/schema/payments.ts';
import { channels, feeAdjustmentSchema, feeFormulaSchema, roundingRuleSchema, vehicleRegistrations } from '../domain/fees.ts';
import { intentStatuses } from '../domain/payment-states.ts';
import { gatewayIds } from '../gateways/types.ts';
import { errorCodes, ServiceError } from '../services/errors.ts';
import { IDEMPOTENCY_KEY_PATTERN } from '../services/idempotency.ts';
import { AGENCY_CODE_PATTERN } from '../services/principal.ts';
import { hints } from './problem-language.ts';

/** Request and response schemas: validation and the OpenAPI document come from the same source. */

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.enum(errorCodes),
    detail: z.string(),
    requestId: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi('Problem');

/** The Idempotency-Key header of a creating POST (checked by `requireIdempotencyKey`). */
export const idempotencyHeaders = (example: string) =>
  z.object({
    'idempotency-key': z
      .string()
      .regex(IDEMPOTENCY_KEY_PATTERN, '1 to 255 visible ASCII characters')
      .optional()
      // The parameter's name must be the object key (header names are case-insensitive and
      // arrive lower-cased); a different spelling makes the OpenAPI generator refuse the document.
      .openapi({ param: { name: 'idempotency-key', in: 'header', required: true }, example }),
  });

/** Optional in the schema so that its absence gets its own code, not a generic validation error. */
export function requireIdempotencyKey(headers: { 'idempotency-key'?: string }): string {
  const key = headers['idempotency-key'];
  if (!key)
    throw new ServiceError('idempotency-key-required', 'send an Idempotency-Key header', [
      { path: 'Idempotency-Key', message: 'required' },
    ]);
  return key;
}

export const vndAmount = z
  .number()
  .int()
  .nonnegative()
  .max(Number.MAX_SAFE_INTEGER)
  .openapi({ description: 'Integer VND', example: 135000 });
export const agencyCode = z.string().regex(AGENCY_CODE_PATTERN).openapi({ example: '000.00.32.H19' });
export const procedureCode = z
  .string()
  .regex(/^\d\.\d{6}(\.[A-Za-z0-9.]+)?$/, 'a national procedure code such as 1.001612')
  .openapi({ example: '3.000347' });
/**
 * The dossier the document's examples name. The embedded demo's document names one of its own
 * dossiers instead (app.ts, `docs.exampleDossier`), since the demo's codes carry the day it was
 * loaded on; this one is what a fresh demo loaded on 2026-11-22 could hold.
 */
export const EXAMPLE_DOSSIER_CODE = '000.01.15.H19-261120-0001';

/** `<receiving unit code>-<yymmdd>-<4-digit daily sequence>` (domain/fees-and-codes.md). */
export const dossierCode = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9.]{0,39}-\d{6}-\d{4}$/, 'a dossier code such as 000.00.32.H19-210708-0032')
  .openapi({ example: EXAMPLE_DOSSIER_CODE });

const ObligationSchema = z
  .object({
    id: z.uuid(),
    lineNo: z.number().int(),
    kind: z.enum(['phi', 'le_phi']).openapi({ description: 'phí (fee, LoaiPhiLePhi 1) or lệ phí (charge, 2)' }),
    feeCode: z.string(),
    name: z.string(),
    amount: vndAmount,
    adjustment: z.string().nullable().openapi({ description: 'The reduction or exemption that applied, if any' }),
    status: z.enum(['unpaid', 'paid', 'refunded', 'waived']),
  })
  .openapi('Obligation');

export const DossierSchema = z
  .object({
    code: z.string(),
    procedureCode: z.string(),
    agencyCode: z.string(),
    channel: z.enum(channels),
    receivedAt: z.string(),
    receivedDate: z.string().openapi({ description: 'Receipt date in Asia/Ho_Chi_Minh' }),
    applicant: z.object({ name: z.string().nullable(), address: z.string().nullable() }).nullable(),
    declaredValue: z.number().int().nullable(),
    quantity: z.number().int().nullable(),
    copies: z
      .number()
      .int()
      .nullable()
      .openapi({ description: 'Copies asked for (certified copies: the page tiers and cap are per copy); null: one' }),
    payerCategories: z
      .array(z.string())
      .openapi({ description: "The payer's categories, sorted; reductions and exemptions take the most favourable" }),
    payerCategory: z
      .string()
      .nullable()
      .openapi({ description: 'Deprecated alias of `payerCategories`: its one category when it has exactly one, else null' }),
    vehicleRegistration: z.enum(vehicleRegistrations).nullable(),
    urbanArea: z.boolean().nullable(),
    onlinePaymentFlag: z.number().int().openapi({ description: '766 DuocThanhToanTrucTuyen: 0, 1 national platform, 2 province gateway' }),
    paidAt: z.string().nullable(),
    obligations: z.array(ObligationSchema),
    totalDue: vndAmount,
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Dossier');

const payerCategory = z.string().regex(/^[a-z0-9_]{1,40}$/, 'lower-case letters, digits and _');

export const DossierInputSchema = z
  .object({
    procedureCode,
    agencyCode,
    channel: z.enum(channels),
    receivedAt: z.iso
      // Not an ISO time: one issue saying the form, and nothing more of this field.
      .datetime({ offset: true, error: hints.isoDateTime.en(), abort: true })
      // PostgreSQL has no year 0 and the business date must keep four digits: years 0000 and
      // 9999 pass the ISO pattern but fail at the INSERT. (The plausible times are narrower:
      // services/dossiers.ts, from the catalogue and the clock.)
      .refine((s) => {
        const t = Date.parse(s);
        return t >= Date.UTC(1900, 0, 1) && t < Date.UTC(9999, 11, 31);
      }, hints.timeFrom1900.en())
      .openapi({ example: '2026-11-22T09:30:00+07:00' }),
    applicant: z
      .object({ name: z.string().trim().min(1).max(200).nullish(), address: z.string().trim().min(1).max(500).nullish() })
      .strict()
      .nullish(),
    declaredValue: vndAmount.nullish(),
    quantity: z.number().int().min(1).max(100_000).nullish(),
    copies: z.number().int().min(1).max(1_000).nullish().openapi({
      description: 'Copies asked for, where a fee is per copy (certified copies: `quantity` is the pages of one copy); absent: one',
    }),
    payerCategories: z
      .array(payerCategory)
      .max(10)
      .nullish()
      .openapi({
        description:
          "The payer's categories, e.g. student, merit, child, elderly, disabled, poor_household, vneid_level2 (a level-2 VNeID account: Circular 117/2026/TT-BTC). Where several reduce a fee, the most favourable applies; they do not stack",
        example: ['vneid_level2'],
      }),
    payerCategory: payerCategory
      .nullish()
      .openapi({ description: 'One category: the same as `payerCategories: [payerCategory]` (kept for older clients)' }),
    vehicleRegistration: z.enum(vehicleRegistrations).nullish().openapi({
      description: "Lệ phí trước bạ of a vehicle (Decree 10/2022 Art. 8): the vehicle's `first` registration or a `later` one",
    }),
    urbanArea: z.boolean().nullish().openapi({
      description: 'A first registration in a centrally-run city or a provincial city or town (5 % for a motorbike instead of 2 %)',
    }),
  })
  .strict()
  .refine(
    (d) =>
      d.payerCategory == null || d.payerCategories == null || (d.payerCategories.length === 1 && d.payerCategories[0] === d.payerCategory),
    { message: 'give payerCategories, or payerCategory as its one-item alias; both only when they say the same', path: ['payerCategory'] },
  )
  .openapi('DossierInput');

const NextActionSchema = z
  .union([
    z.object({ type: z.literal('redirect'), url: z.string() }),
    z.object({ type: z.literal('qr'), payload: z.string() }).passthrough(),
  ])
  .openapi('NextAction');

export const PaymentIntentSchema = z
  .object({
    id: z.uuid(),
    status: z.enum(intentStatuses),
    amount: vndAmount,
    currency: z.literal('VND'),
    gateway: z.string(),
    reference: z.string().openapi({ description: 'The hub reference the gateway and statements carry' }),
    dossierCode: z.string(),
    obligationIds: z.array(z.uuid()),
    returnUrl: z.string(),
    expiresAt: z.string(),
    nextAction: NextActionSchema.nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    succeededAt: z.string().nullable(),
    reviewReason: z.string().nullable(),
    gatewayTransactionId: z
      .string()
      .nullable()
      .openapi({ description: "The gateway's id of the payment that settled it or is held for review" }),
    receivedAmount: vndAmount
      .nullable()
      .openapi({ description: 'Set only when treasury accepted another amount than the one asked: what was taken' }),
  })
  .openapi('PaymentIntent');

export const CreateIntentSchema = z
  .object({
    dossierCode,
    obligationIds: z.array(z.uuid()).min(1).max(100).optional(),
    gateway: z.enum(gatewayIds),
    returnUrl: z.url({ protocol: /^https?$/ }).max(2000),
    payer: z
      .object({
        ip: z
          .union([z.ipv4().openapi({ format: 'ipv4' }), z.ipv6().openapi({ format: 'ipv6' })])
          .optional()
          .openapi({ description: "The citizen's IP as the portal saw it (VNPay's vnp_IpAddr)" }),
        name: z.string().trim().min(1).max(200).optional(),
        idNumber: z
          .string()
          .regex(/^[0-9A-Za-z]{6,20}$/, '6 to 20 letters or digits')
          .optional(),
        address: z.string().trim().min(1).max(500).optional(),
      })
      .strict()
      .optional()
      .openapi({ description: "Who pays. Without a name or address, the dossier's applicant; without an IP, the caller's." }),
  })
  .strict()
  .openapi('CreatePaymentIntent');

const ReceiptSummarySchema = z.object({
  id: z.string(),
  formSymbol: z.string(),
  seriesSymbol: z.string(),
  number: z.number().int(),
  issuedDate: z.string(),
  lookupUrl: z.string(),
});

export const ReceiptSchema = z
  .object({
    id: z.uuid(),
    intentId: z.uuid(),
    reference: z.string(),
    dossierCode: z.string(),
    receiptType: z.string(),
    kind: z.enum(['original', 'adjusting', 'replacing']).openapi({
      description:
        'An original, or a correction of one: adjusting (a refund: negative amounts) or replacing (a wrong receipt issued again)',
    }),
    reason: z.string().nullable().openapi({ description: 'Why a correction was issued' }),
    original: ReceiptSummarySchema.nullable().openapi({ description: 'The receipt this one corrects' }),
    corrections: z
      .array(ReceiptSummarySchema.extend({ kind: z.enum(['original', 'adjusting', 'replacing']) }))
      .openapi({ description: 'The receipts that corrected this one since, oldest first' }),
    formSymbol: z.string().openapi({ description: 'Ký hiệu mẫu biên lai (Circular 91/2026 Appendix II; default EBL01)' }),
    seriesSymbol: z.string().openapi({ description: "Ký hiệu biên lai: the year's two digits, T, two letters (26THP)" }),
    number: z.number().int().openapi({ description: 'Gapless within the series and its year, from 1' }),
    displayNumber: z.string(),
    issuedAt: z.string(),
    issuedDate: z.string(),
    collector: z
      .object({ code: z.string(), name: z.string(), address: z.string().nullable(), taxCode: z.string().nullable() })
      .openapi({ description: 'The collecting organisation: name, address, tax code (Decree 254/2026/NĐ-CP Art. 23)' }),
    collectingAgency: z.object({ code: z.string(), name: z.string() }).openapi({ description: 'Deprecated: `collector`' }),
    issuer: z
      .object({ name: z.string(), address: z.string().nullable(), taxCode: z.string().nullable(), delegation: z.string().nullable() })
      .nullable()
      .openapi({
        description:
          "The service provider (the hub's operator) that issued and signed the receipt on the collector's behalf, and under which delegation; null when the collector signed with its own key",
      }),
    payer: z.object({ name: z.string().nullable(), address: z.string().nullable() }),
    lines: z.array(
      z.object({
        obligationId: z.string(),
        kind: z.enum(['phi', 'le_phi']),
        feeCode: z.string(),
        name: z.string(),
        amount: z.number().int().openapi({ description: 'Integer VND; negative on an adjusting receipt' }),
      }),
    ),
    total: z.number().int().openapi({ description: 'Integer VND: negative on an adjusting receipt (money given back)' }),
    totalInWords: z.string(),
    currency: z.literal('VND'),
    gateway: z.string(),
    gatewayTransactionId: z.string().nullable(),
    lookupCode: z.string().openapi({ description: 'Mã tra cứu: the citizen looks the receipt up with it, no account needed' }),
    lookupUrl: z.string().openapi({ description: 'The public look-up page of this receipt (its QR is printed on the receipt)' }),
    refunded: z
      .object({ status: z.enum(['none', 'partial', 'full']), amount: vndAmount })
      .openapi({ description: 'Money given back since (refunds that succeeded)' }),
    signature: z.string().openapi({ description: 'Compact JWS (ES256) over the receipt; keys at /.well-known/jwks.json' }),
    signatureAlgorithm: z.literal('ES256'),
    keyId: z.string(),
    verificationKeys: z.string(),
  })
  .openapi('Receipt');

export const AgencySchema = z
  .object({
    code: z.string(),
    name: z.string(),
    level: z.string(),
    parentCode: z.string().nullable(),
    depth: z.number().int(),
    validFrom: z.string().nullable(),
    validTo: z.string().nullable(),
    mergedInto: z.string().nullable(),
    issuesCounterReceipts: z
      .boolean()
      .openapi({ description: "Counter payments get the hub's e-receipt; otherwise the paper receipt's number is kept" }),
    address: z.string().nullable(),
    taxCode: z.string().nullable().openapi({ description: 'Mã số thuế: 10 digits, or 10-3 for a dependent unit' }),
    receiptFormSymbol: z.string().nullable(),
    receiptSeriesSymbol: z.string().nullable(),
    receiptDelegation: z.string().nullable(),
  })
  .openapi('Agency');

const nullableText = (max: number) => z.string().trim().min(1).max(max).nullable().optional();

export const AgencySettingsInputSchema = z
  .object({
    issuesCounterReceipts: z.boolean().optional(),
    address: nullableText(500),
    taxCode: z
      .string()
      .regex(/^\d{10}(-\d{3})?$/, 'a tax code is 10 digits, or 10-3')
      .nullable()
      .optional(),
    receiptFormSymbol: z
      .string()
      .regex(/^[A-Z0-9-]{1,11}$/, 'upper-case letters, digits and dashes, at most 11')
      .nullable()
      .optional(),
    receiptSeriesSymbol: z
      .string()
      .regex(/^[A-Z0-9-]{1,8}$/, 'upper-case letters, digits and dashes, at most 8')
      .nullable()
      .optional(),
    receiptDelegation: nullableText(500),
  })
  .strict()
  .refine((v) => Object.keys(v).length > 0, 'at least one setting')
  .openapi('AgencySettingsInput', { description: "An agency's settings an admin maintains" });

/**
 * A calendar date, yyyy-mm-dd. Another form (01/12/2026) is one issue saying the form, and its
 * other checks do not run; PostgreSQL has no year 0, which the ISO pattern allows.
 */
export const isoDate = z.iso.date({ error: hints.isoDate.en(), abort: true }).refine((d) => d >= '1900-01-01', hints.dateFrom1900.en());

export const FeeRuleInputSchema = z
  .object({
    kind: z.enum(['phi', 'le_phi']),
    feeCode: z.string().min(1).max(50),
    name: z.string().min(1).max(300),
    lineNo: z.number().int().min(1).max(50).default(1),
    formula: feeFormulaSchema,
    adjustments: z.array(feeAdjustmentSchema).max(20).default([]),
    rounding: roundingRuleSchema.default({ mode: 'half_up', unit: 1 }),
    validFrom: isoDate,
    validTo: isoDate.nullable().default(null),
    legalBasis: z.string().min(1).max(500),
    collectionAccount: z.string().max(200).nullable().default(null),
    budgetChapter: z
      .string()
      .regex(/^\d{3}$/, 'a chapter code of 3 digits')
      .nullable()
      .default(null)
      .openapi({ description: 'Mã chương of the state budget chart of accounts (Circular 324/2016/TT-BTC)', example: '757' }),
    budgetSubItem: z
      .string()
      .regex(/^\d{4}$/, 'a sub-item code of 4 digits')
      .nullable()
      .default(null)
      .openapi({ description: 'Tiểu mục: the kind of revenue (2801 lệ phí trước bạ nhà đất, 2802 ô tô, xe máy…)', example: '2801' }),
    budgetAccount: z
      .string()
      .regex(/^\d{4}$/, 'an account number of 4 digits')
      .nullable()
      .default(null)
      .openapi({
        description: 'The State Treasury account collected into: 7111 (budget revenue) or a temporary-collection account',
        example: '7111',
      }),
    retainedPercent: z
      .string()
      .regex(/^\d{1,3}(\.\d{1,2})?$/, 'a percentage such as "30" or "12.5" (at most 2 decimals)')
      .nullable()
      .default(null)
      .openapi({
        description:
          'For a phí, the share (percent, 0–100) the collecting agency keeps; the rest is remitted. A lệ phí retains nothing (null or 0).',
        example: '30.00',
      }),
    budgetCodesDemo: z
      .boolean()
      .default(false)
      .openapi({ description: "The codes are the demo's invented values, not the finance office's" }),
    setByProvince: z.boolean().default(false),
  })
  .strict()
  .openapi('FeeRuleInput');

/**
 * Not `FeeRuleInputSchema.extend(…)`: the document would then say allOf(the strict input, { id }),
 * which no rule satisfies (each part forbids the other's properties).
 */
export const FeeRuleSchema = z.object({ id: z.uuid(), ...FeeRuleInputSchema.shape }).openapi('FeeRule');

const receivingLevels = z
  .array(z.enum(agencyLevels))
  .max(agencyLevels.length)
  .openapi({
    description: 'Every agency of these levels receives the procedure (766 indicator b counts it for them)',
    example: ['commune'],
  });
const receivingUnits = z
  .array(agencyCode)
  .max(200)
  .openapi({ description: 'These agencies, and the units under them, receive the procedure', example: ['000.01.15.H19'] });

export const ProcedureInputSchema = z
  .object({
    name: z.string().min(1).max(500),
    field: z.string().min(1).max(200),
    level: z.string().min(1).max(100),
    receivingLevels: receivingLevels.optional(),
    receivingUnits: receivingUnits
      .optional()
      .openapi({ description: 'Who receives it besides `receivingLevels`; both absent on an update: unchanged, both empty: every unit' }),
    integratedOnlinePayment: z.boolean().default(false),
    dataConfidence: z.enum(['confirmed', 'secondary', 'unconfirmed']).default('confirmed'),
    note: z.string().max(2000).nullable().default(null),
  })
  .strict()
  .openapi('ProcedureInput');

export const ProcedureSchema = z
  .object({
    code: z.string(),
    name: z.string(),
    field: z.string(),
    level: z.string(),
    receivingLevels: z.array(z.string()),
    receivingUnits: z.array(z.string()),
    integratedOnlinePayment: z.boolean(),
    dataConfidence: z.string(),
    note: z.string().nullable(),
    feeBearing: z.boolean(),
    feeRules: z.array(FeeRuleSchema),
  })
  .openapi('Procedure');

export const CreateRefundSchema = z
  .object({
    amount: vndAmount.min(1),
    expectedRefundable: vndAmount.openapi({
      description: 'What the caller believes may still be refunded; 409 when the hub computes otherwise',
    }),
    reason: z.string().trim().min(3).max(500),
  })
  .strict()
  .openapi('CreateRefund');

export const RefundSchema = z
  .object({
    id: z.uuid(),
    intentId: z.uuid(),
    amount: vndAmount,
    currency: z.literal('VND'),
    full: z.boolean(),
    reason: z.string(),
    status: z.enum(refundStatuses),
    requestedBy: z.string(),
    approvedBy: z.string().nullable(),
    gatewayRefundId: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    completedAt: z.string().nullable(),
    resolution: z
      .object({
        outcome: z.enum(['succeeded', 'failed']),
        note: z.string(),
        resolvedBy: z.string(),
        resolvedAt: z.string(),
      })
      .nullable()
      .openapi({ description: "Set when a person closed the refund from the gateway's portal or statement" }),
    reviewId: z.uuid().nullable().openapi({ description: 'The payment review this refund was decided in, if any' }),
    method: z.enum(['gateway', 'manual']).openapi({
      description: "`gateway`: through the gateway's refund API; `manual`: returned outside the hub (a bank transfer), with its evidence",
    }),
    gatewayTransactionId: z
      .string()
      .nullable()
      .openapi({ description: "The gateway transaction given back, when it is not the intent's own (a second payment)" }),
  })
  .openapi('Refund');

export const ResolveRefundSchema = z
  .object({
    outcome: z
      .enum(['succeeded', 'failed'])
      .openapi({ description: '`succeeded`: the gateway returned the money; `failed`: it did not (the amount may be refunded again)' }),
    note: z.string().trim().min(3).max(500).openapi({
      description: 'The evidence: where the refund was seen done or refused',
      example: 'Cổng VNPay: GD hoàn 14170935 thành công 12/03',
    }),
    gatewayRefundId: z.string().trim().min(1).max(100).optional(),
  })
  .strict()
  .openapi('ResolveRefund');
