import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { ServiceError } from '../../services/errors.ts';
import { getReceiptById, lookupReceipt, replaceReceipt, type SignedReceipt } from '../../services/receipts.ts';
import { renderLookupProblem, renderReceiptPage } from '../../web/receipt-page.ts';
import type { AppEnv } from '../env.ts';
import { receiptExample } from '../examples.ts';
import { allow, principalOf } from '../middleware/auth.ts';
import { preferredType } from '../negotiate.ts';
import { errorResponses, JSON_BODY, SECURED, WRITES } from '../openapi-errors.ts';
import { ReceiptSchema } from '../schemas.ts';

const XML_EXAMPLE =
  '<?xml version="1.0" encoding="UTF-8"?><BLai><DLBLai Id="DLBLai"><TTChung><PBan>1.0.0</PBan><TBLai>Biên lai thu phí, lệ phí</TBLai>' +
  '<KHMSBLai>EBL01</KHMSBLai><KHBLai>26TGT</KHBLai><SBLai>0000042</SBLai>…</TTChung><NDBLai>…</NDBLai></DLBLai>' +
  '<DSCKS><TCThu><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#">…</ds:Signature></TCThu></DSCKS></BLai>';

/** The three representations of a receipt, in the OpenAPI document. */
export const receiptContent = {
  'application/json': { schema: ReceiptSchema, example: receiptExample },
  'application/xml': { schema: z.string(), example: XML_EXAMPLE },
  'text/html': { schema: z.string(), example: '<!doctype html><html lang="vi">…<h1>Biên lai thu phí, lệ phí</h1>…</html>' },
};

export const RECEIPT_REPRESENTATIONS =
  "JSON by default; `Accept: application/xml` gives the receipt as the tax authority's XML structure (general data `TTChung`, content `NDBLai`, signatures `DSCKS`) " +
  'with an enveloped XML signature (ECDSA-SHA256, exclusive canonicalisation, the public key in KeyInfo; the key is also at /.well-known/jwks.json); ' +
  '`text/html` the printable page for the citizen, with the QR of its public look-up page.';

/** A receipt as the client asked for it: JSON, the signed XML, or the printable page. */
export async function receiptResponse(c: Context<AppEnv>, receipt: SignedReceipt) {
  switch (preferredType(c.req.header('accept'), ['application/json', 'application/xml', 'text/xml', 'text/html'])) {
    case 'application/xml':
    case 'text/xml':
      return c.body(receipt.row.xml ?? '', 200, { 'content-type': 'application/xml; charset=utf-8' });
    case 'text/html':
      return c.html(await renderReceiptPage(receipt.view), 200);
    default:
      return c.json(receipt.view, 200);
  }
}

const receiptByIdRoute = createRoute({
  method: 'get',
  path: '/v1/receipts/{id}',
  operationId: 'getReceiptById',
  tags: ['Payment intents'],
  summary: 'Any receipt by its id (JSON, signed XML, or printable HTML)',
  description: `A receipt of the caller's scope, whichever intent it belongs to. ${RECEIPT_REPRESENTATIONS}`,
  security: [{ bearerAuth: [] }],
  middleware: [allow('portal', 'treasury', 'admin')] as const,
  request: { params: z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' }, example: receiptExample.id }) }) },
  responses: {
    200: { description: 'The receipt', content: receiptContent },
    ...errorResponses([...SECURED, 'not-found']),
  },
});

const ReplaceReceiptSchema = z
  .object({
    payer: z
      .object({
        name: z.string().trim().min(1).max(200),
        address: z.string().trim().min(1).max(500).nullable().default(null),
      })
      .strict()
      .openapi({ description: 'The payer as the replacement prints them' }),
    reason: z
      .string()
      .trim()
      .min(3)
      .max(1000)
      .openapi({ description: 'What was wrong, printed on the replacement and kept in the audit log' }),
  })
  .strict()
  .openapi('ReplaceReceipt');

const replaceRoute = createRoute({
  method: 'post',
  path: '/v1/receipts/{id}/replacements',
  operationId: 'replaceReceipt',
  tags: ['Payment intents'],
  summary: 'Replace a wrong receipt with a new one (never an edit)',
  description:
    'Circular 91/2026: a receipt is never edited. A receipt printed with the wrong payer is replaced by a new receipt with the same fee lines and total, ' +
    'the payer corrected, its own number in the series the agency prints now, and a reference to the receipt it replaces, which stays and shows that it was replaced. ' +
    "It becomes the intent's current receipt. A receipt is replaced once (409 with `replacedBy` the second time; replace the replacement instead); an adjusting receipt is not replaced. " +
    'A refund that succeeds issues its adjusting receipt by itself (the money given back, as negative amounts over the fee lines). Audited.',
  security: [{ bearerAuth: [] }],
  middleware: [allow('treasury', 'admin')] as const,
  request: {
    params: z.object({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' }, example: receiptExample.id }) }),
    body: {
      required: true,
      content: {
        'application/json': {
          schema: ReplaceReceiptSchema,
          example: {
            payer: { name: 'Nguyễn Văn Ân', address: 'Phường Trấn Biên, tỉnh Đồng Nai' },
            reason: 'Sai tên người nộp (Ân, không phải An)',
          },
        },
      },
    },
  },
  responses: {
    201: {
      description: 'The replacing receipt',
      content: {
        'application/json': {
          schema: ReceiptSchema,
          example: {
            ...receiptExample,
            kind: 'replacing' as const,
            reason: 'Sai tên người nộp (Ân, không phải An)',
            number: 43,
            displayNumber: '0000043',
          },
        },
      },
    },
    ...errorResponses([...SECURED, ...JSON_BODY, ...WRITES, 'not-found', 'conflict']),
  },
});

const lookupRoute = createRoute({
  method: 'get',
  path: '/receipts/lookup',
  operationId: 'lookUpReceipt',
  tags: ['Payment intents'],
  summary: "The citizen's receipt look-up (no token): the receipt page for its look-up code",
  description:
    'The code printed on every receipt (mã tra cứu, with a QR of this URL) is unguessable (100 random bits) and is all it takes. ' +
    "The page checks the receipt's signature and says whether the money was refunded, fully or partly. " +
    '`Accept: application/json` gives the receipt with `verified`; `application/xml` its signed XML.',
  security: [],
  request: {
    query: z.object({
      // Checked by the service, so that a browser gets its page for a bad code too.
      code: z
        .string()
        .optional()
        .openapi({ description: 'The look-up code, any case, spaces and dashes allowed', example: receiptExample.lookupCode }),
    }),
  },
  responses: {
    200: {
      description: 'The receipt',
      content: {
        ...receiptContent,
        'application/json': { schema: ReceiptSchema.extend({ verified: z.boolean() }), example: { ...receiptExample, verified: true } },
      },
    },
    ...errorResponses(['validation-failed', 'not-found', 'rate-limited', 'service-unavailable']),
  },
});

export function registerReceiptRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(receiptByIdRoute, async (c) =>
    receiptResponse(c, await getReceiptById(c.get('ctx'), principalOf(c), c.req.valid('param').id)),
  ) as never;
  app.openapi(replaceRoute, async (c) => {
    const replaced = await replaceReceipt(c.get('ctx'), principalOf(c), c.req.valid('param').id, c.req.valid('json'));
    return c.json(replaced.view, 201);
  });
}

/** The public look-up: outside /v1, no token (its code is the secret). */
export function registerReceiptLookupRoute(app: OpenAPIHono<AppEnv>) {
  app.openapi(lookupRoute, async (c) => {
    c.header('cache-control', 'no-store');
    c.header('x-robots-tag', 'noindex');
    const type = preferredType(c.req.header('accept'), ['text/html', 'application/json', 'application/xml', 'text/xml']) ?? 'text/html';
    try {
      const found = await lookupReceipt(c.get('ctx'), c.req.valid('query').code ?? '');
      if (type === 'text/html') return c.html(await renderReceiptPage(found.view, { verified: found.verified }), 200);
      if (type === 'application/json') return c.json({ ...found.view, verified: found.verified }, 200);
      return c.body(found.row.xml ?? '', 200, { 'content-type': 'application/xml; charset=utf-8' });
    } catch (error) {
      if (type !== 'text/html' || !(error instanceof ServiceError)) throw error;
      return error.code === 'not-found'
        ? c.html(
            renderLookupProblem(
              'Không tìm thấy biên lai',
              'Không có biên lai nào với mã tra cứu này. Vui lòng kiểm tra lại mã in trên biên lai.',
            ),
            404,
          )
        : c.html(renderLookupProblem('Mã tra cứu không hợp lệ', 'Mã tra cứu gồm 16 đến 32 chữ cái và chữ số, như in trên biên lai.'), 400);
    }
  }) as never;
}
