import { type OpenAPIHono, z } from '@hono/zod-openapi';
import type { Context } from 'hono';
import type { InboundMessage } from '../../gateways/types.ts';
import { describeReturn, type ReturnGateway } from '../../services/returns.ts';
import { renderReturnPage, renderReturnProblem } from '../../web/return-page.ts';
import type { AppEnv } from '../env.ts';
import { errorResponses } from '../openapi-errors.ts';

/** A Vietnamese page for the payer's browser, in the OpenAPI document. */
const htmlPage = (heading: string) => ({
  'text/html': { schema: { type: 'string' as const }, example: `<!doctype html><html lang="vi">…${heading}…</html>` },
});

/** The signed query the gateway sends the browser back with (documentation only: the signature check reads it). */
const VNPAY_RETURN_QUERY = z.object({
  vnp_TxnRef: z.string().openapi({ description: 'The hub reference', example: 'HPATW51CYHX4' }),
  vnp_Amount: z.string().openapi({ description: 'VND × 100', example: '13500000' }),
  vnp_ResponseCode: z.string().openapi({ example: '00' }),
  vnp_TransactionStatus: z.string().openapi({ example: '00' }),
  vnp_SecureHash: z.string().openapi({ description: 'HMAC-SHA512 over the other vnp_ fields', example: '3f1c…' }),
});
const DVCQG_RETURN_QUERY = z.object({
  MaThamChieu: z.string().openapi({ description: 'The hub reference', example: 'HPATW51CYHX4' }),
  MaXacThuc: z.string().openapi({ description: "The platform's signature over the confirm's fields", example: '9b2e…' }),
});

const SANDBOX_RETURN_QUERY = z.object({
  ref: z.string().openapi({ description: 'The hub reference, as the hub wrote it into the return URL', example: 'HPATW51CYHX4' }),
  mac: z.string().openapi({ description: "The hub's HMAC-SHA256 over the reference (the sandbox secret)", example: '5d0a…' }),
  reference: z.string().optional().openapi({ description: 'Added by the sandbox; not signed, not read', example: 'HPATW51CYHX4' }),
  status: z.string().optional().openapi({ description: 'Added by the sandbox; not signed, not read', example: 'succeeded' }),
});

/** What every return route's description says about the way on to the portal. */
const ON_TO_PORTAL =
  "then sends the browser to the intent's `returnUrl` with `reference`, `status` and `hubResult` added. `hubResult` is a " +
  "compact JWS (JWT, ES256, header `typ: hub-result+jwt`) signed with the hub's key published at `/.well-known/jwks.json`: " +
  "claims `intentId`, `reference`, `status` (the hub's record when the payer came back, never what the gateway's link says), " +
  "`amount` (integer VND), `iss` (the hub's public base URL), `aud` (the return URL's origin), `iat`, and `exp` ten minutes " +
  "later. The plain `status` parameter is not signed and must never be trusted; a dossier's state is what the API and the " +
  'signed events say. ';

/** Long enough to read the page, short enough not to feel stuck. */
const REDIRECT_SECONDS = 5;

/** The page for a payer's browser back from a gateway (services/returns.ts says what to show). */
async function returnPage(c: Context<AppEnv>, gateway: ReturnGateway, gatewayName: string, message: InboundMessage) {
  const result = await describeReturn(c.get('ctx'), gateway, message);
  c.header('cache-control', 'no-store');
  switch (result.kind) {
    case 'unsigned':
      return c.html(
        renderReturnProblem(
          'Liên kết không hợp lệ',
          `Liên kết kết quả thanh toán này không có chữ ký hợp lệ của ${gatewayName}. Hệ thống không ghi nhận gì từ liên kết này; vui lòng kiểm tra trạng thái hồ sơ trên cổng dịch vụ công.`,
        ),
        400,
      );
    case 'unknown_intent':
      return c.html(
        renderReturnProblem(
          'Không tìm thấy giao dịch',
          'Hệ thống không có yêu cầu thanh toán nào với mã này. Vui lòng liên hệ cơ quan giải quyết hồ sơ.',
        ),
        404,
      );
    case 'intent':
      return c.html(
        renderReturnPage({
          gatewayName,
          reference: result.reference,
          amount: result.amount,
          verdict: result.verdict,
          reason: result.reason,
          reportedAmount: result.reportedAmount,
          status: result.status,
          redirectUrl: result.portalUrl,
          redirectSeconds: REDIRECT_SECONDS,
        }),
        200,
      );
  }
}

/**
 * Where the payer's browser lands after VNPay, the national platform or the sandbox. For the
 * payer's eyes only: it verifies the link so it shows nothing forged, reads the intent, and changes
 * nothing; only the server-to-server message (through the inbox) records a payment. The way on to
 * the portal carries the hub's signed `hubResult` (services/hub-result.ts).
 */
export function registerReturnRoutes(app: OpenAPIHono<AppEnv>) {
  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/v1/returns/vnpay',
    operationId: 'vnpayBrowserReturn',
    tags: ['Gateway callbacks'],
    summary: "The payer's browser comes back from VNPay (signed query; no bearer token)",
    description:
      'Verifies `vnp_SecureHash`, shows the payer a Vietnamese page with what VNPay reported and what the hub has recorded, ' +
      ON_TO_PORTAL +
      'Never changes any state: only the IPN (`GET /v1/callbacks/vnpay`) records a payment.',
    security: [],
    request: { query: VNPAY_RETURN_QUERY },
    responses: {
      200: { description: 'The result page, redirecting to the portal with `hubResult`', content: htmlPage('<h1>Kết quả thanh toán</h1>') },
      400: { description: 'The link is not signed by VNPay (page, no redirect)', content: htmlPage('<h1>Liên kết không hợp lệ</h1>') },
      404: {
        description: 'No such payment (a page), or VNPay is not configured here (`not-found`)',
        content: { ...htmlPage('<h1>Không tìm thấy giao dịch</h1>'), ...errorResponses(['not-found'])[404]!.content },
      },
      ...errorResponses(['internal-error']),
    },
  });

  app.get('/v1/returns/vnpay', (c) => {
    const url = new URL(c.req.url);
    return returnPage(c, 'vnpay', 'VNPay', { method: 'GET', url: `${url.pathname}${url.search}`, headers: {}, rawBody: '' });
  });

  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/v1/returns/dvcqg',
    operationId: 'dvcqgBrowserReturn',
    tags: ['Gateway callbacks'],
    summary: "The payer's browser comes back from the national platform (the confirm's fields, signed; no bearer token)",
    description:
      'Verifies `MaXacThuc` as for the confirm, shows the payer what the platform reported and what the hub has recorded, ' +
      ON_TO_PORTAL +
      'Never changes any state: only the confirm (`POST /v1/callbacks/dvcqg`) records a payment.',
    security: [],
    request: { query: DVCQG_RETURN_QUERY },
    responses: {
      200: { description: 'The result page, redirecting to the portal with `hubResult`', content: htmlPage('<h1>Kết quả thanh toán</h1>') },
      400: { description: 'The link is not signed by the platform', content: htmlPage('<h1>Liên kết không hợp lệ</h1>') },
      404: {
        description: 'No such payment (a page), or the platform is not configured here (`not-found`)',
        content: { ...htmlPage('<h1>Không tìm thấy giao dịch</h1>'), ...errorResponses(['not-found'])[404]!.content },
      },
      ...errorResponses(['internal-error']),
    },
  });

  app.openAPIRegistry.registerPath({
    method: 'get',
    path: '/v1/returns/sandbox',
    operationId: 'sandboxBrowserReturn',
    tags: ['Gateway callbacks'],
    summary: "The payer's browser comes back from the sandbox's checkout (a link the hub made; no bearer token)",
    description:
      'The sandbox sends the browser back unsigned, to the return URL the hub gave it: `mac` proves the hub made the link. ' +
      "Shows the payer what the hub has recorded (the sandbox's `status` is not read), " +
      ON_TO_PORTAL +
      'Never changes any state: only the signed callback (`POST /v1/callbacks/sandbox`) records a payment.',
    security: [],
    request: { query: SANDBOX_RETURN_QUERY },
    responses: {
      200: { description: 'The result page, redirecting to the portal with `hubResult`', content: htmlPage('<h1>Kết quả thanh toán</h1>') },
      400: { description: 'The link is not one the hub made (page, no redirect)', content: htmlPage('<h1>Liên kết không hợp lệ</h1>') },
      404: {
        description: 'No such payment (a page), or the sandbox is not configured here (`not-found`)',
        content: { ...htmlPage('<h1>Không tìm thấy giao dịch</h1>'), ...errorResponses(['not-found'])[404]!.content },
      },
      ...errorResponses(['internal-error']),
    },
  });

  app.get('/v1/returns/sandbox', (c) => {
    const url = new URL(c.req.url);
    return returnPage(c, 'sandbox', 'Cổng thanh toán thử nghiệm', {
      method: 'GET',
      url: `${url.pathname}${url.search}`,
      headers: {},
      rawBody: '',
    });
  });

  app.get('/v1/returns/dvcqg', (c) => {
    // The redirect carries the confirm's fields: verified exactly as the confirm would be.
    const fields = Object.fromEntries(new URL(c.req.url).searchParams);
    return returnPage(c, 'dvcqg', 'Nền tảng thanh toán trên Cổng Dịch vụ công quốc gia', {
      method: 'POST',
      url: '/v1/returns/dvcqg',
      headers: {},
      rawBody: JSON.stringify(fields),
    });
  });
}
