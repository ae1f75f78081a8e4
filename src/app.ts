import { OpenAPIHono } from '@hono/zod-openapi';
import { bodyLimit } from 'hono/body-limit';
import { createMiddleware } from 'hono/factory';
import { serviceContext } from './deps.ts';
import type { AppDeps, AppEnv } from './http/env.ts';
import { authenticate } from './http/middleware/auth.ts';
import { accessLog, requestId, wellFormedText } from './http/middleware/request.ts';
import { errorToResponse, problemResponse, zodIssues } from './http/problem.ts';
import { registerAuditRoutes } from './http/routes/audit.ts';
import { registerCallbackRoutes } from './http/routes/callbacks.ts';
import { registerCampaignRoutes } from './http/routes/campaigns.ts';
import { registerCatalogueRoutes } from './http/routes/catalogue.ts';
import { registerDashboardRoutes } from './http/routes/dashboard.ts';
import { registerDiscrepancyRoutes } from './http/routes/discrepancies.ts';
import { registerDocsRoutes } from './http/routes/docs.ts';
import { registerDossierRoutes } from './http/routes/dossiers.ts';
import { registerDvcqgRoutes } from './http/routes/dvcqg.ts';
import { registerIndicatorRoutes } from './http/routes/indicators.ts';
import { registerOfflinePaymentRoutes } from './http/routes/offline-payments.ts';
import { registerOidcRoutes } from './http/routes/oidc.ts';
import { registerPaymentIntentRoutes } from './http/routes/payment-intents.ts';
import { registerPaymentReviewRoutes } from './http/routes/payment-reviews.ts';
import { registerReceiptLookupRoute, registerReceiptRoutes } from './http/routes/receipts.ts';
import { registerReconciliationRoutes } from './http/routes/reconciliations.ts';
import { registerRefundRoutes } from './http/routes/refunds.ts';
import { registerReportRoutes } from './http/routes/reports.ts';
import { registerReturnRoutes } from './http/routes/returns.ts';
import { registerReviewDecisionRoutes } from './http/routes/review-decisions.ts';
import { registerStatementRoutes } from './http/routes/statements.ts';
import { registerSystemRoutes } from './http/routes/system.ts';
import { EXAMPLE_DOSSIER_CODE } from './http/schemas.ts';
import type { ServiceContext } from './services/context.ts';
import { ServiceError } from './services/errors.ts';

const API_TITLE = 'Fee-payment hub';
const API_VERSION = '0.1.0';

/**
 * Builds the Hono app from its dependencies: middleware, routes, the OpenAPI document. The same
 * function serves Node (server.ts), Workers (worker.ts) and the tests (app.request).
 */
export function createApp(deps: AppDeps) {
  const services: ServiceContext = serviceContext(deps);
  const pages = { session: deps.session, oidcEnabled: deps.oidcEnabled ?? false };

  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result, c) => {
      if (!result.success) {
        const target = 'target' in result ? String(result.target) : undefined;
        const prefix = target === 'json' ? undefined : target === 'header' ? 'headers' : target;
        return problemResponse(c as never, 'validation-failed', 'the request does not match the schema', zodIssues(result.error, prefix));
      }
    },
  });

  app.use('*', requestId);
  app.use(
    '*',
    createMiddleware<AppEnv>(async (c, next) => {
      // Every line the request causes, down to a gateway's warning, carries its id.
      c.set('ctx', { ...services, log: services.log.child({ requestId: c.get('requestId') }) });
      c.set('pages', pages);
      await next();
    }),
  );
  app.use('*', accessLog);
  app.onError((error, c) => errorToResponse(c, error));
  app.notFound((c) => problemResponse(c, 'not-found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`));

  registerSystemRoutes(app);
  registerCallbackRoutes(app);
  registerReturnRoutes(app);
  registerReceiptLookupRoute(app);
  if (deps.oidc) registerOidcRoutes(app, deps.oidc);
  registerDashboardRoutes(app, deps.verifier);

  // Every other /v1 route needs a bearer token; callbacks and browser returns are authenticated by signatures.
  const auth = authenticate(deps.verifier);
  app.use('/v1/*', async (c, next) =>
    c.req.path.startsWith('/v1/callbacks/') || c.req.path.startsWith('/v1/returns/') ? next() : auth(c, next),
  );
  const jsonBodyLimit = bodyLimit({
    maxSize: 1024 * 1024,
    onError: () => {
      throw new ServiceError('payload-too-large', 'request bodies are at most 1 MiB');
    },
  });
  // A statement upload is streamed (never held in memory) and has its own limit, STATEMENT_MAX_BYTES.
  app.use('/v1/*', (c, next) => (c.req.method === 'POST' && c.req.path === '/v1/statements' ? next() : jsonBodyLimit(c, next)));
  app.use('/v1/*', wellFormedText);
  registerCatalogueRoutes(app);
  registerDossierRoutes(app);
  registerPaymentIntentRoutes(app);
  registerReceiptRoutes(app);
  registerOfflinePaymentRoutes(app);
  registerReportRoutes(app);
  registerDvcqgRoutes(app);
  registerRefundRoutes(app);
  registerPaymentReviewRoutes(app);
  registerReviewDecisionRoutes(app);
  registerAuditRoutes(app);
  registerReconciliationRoutes(app);
  registerDiscrepancyRoutes(app);
  registerIndicatorRoutes(app);
  registerCampaignRoutes(app);
  registerStatementRoutes(app);

  for (const routes of deps.extraRoutes ?? []) app.route('/', routes);

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearerAuth', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: 'HS256 or JWKS-verified JWT with `role` (portal, treasury, campaign, admin) and `agencies` claims',
  });
  registerDocsRoutes(app, { title: API_TITLE, docs: deps.docs });
  // Generated once, at the first request: the routes are all registered by then.
  let document: ReturnType<typeof app.getOpenAPI31Document> | undefined;
  app.get('/openapi.json', async (c) => {
    document ??= app.getOpenAPI31Document({
      openapi: '3.1.0',
      info: {
        title: API_TITLE,
        version: API_VERSION,
        description:
          'Online fee-payment hub for Vietnamese public services. Amounts are integer VND. Errors are application/problem+json with a stable `code`.',
      },
      servers: [{ url: deps.settings.publicBaseUrl }],
      // Every operation needs the bearer token unless it says otherwise (`security: []`).
      security: [{ bearerAuth: [] }],
      tags: API_TAGS,
    });
    const example = await deps.docs?.exampleDossier?.();
    return c.json(example ? replaceString(document, EXAMPLE_DOSSIER_CODE, example) : document);
  });

  return app;
}

export type App = ReturnType<typeof createApp>;

const API_TAGS = [
  { name: 'Catalogue', description: 'Agencies and procedures (TTHC) with their fee rules' },
  { name: 'Dossiers', description: 'Dossiers (hồ sơ) and the fee obligations computed for them' },
  { name: 'Payment intents', description: 'Paying obligations through a gateway, and the signed receipt' },
  { name: 'Refunds', description: 'Refunds through the paying gateway, with four-eyes approval above a threshold' },
  {
    name: 'Payment reviews',
    description: 'Money the hub could not decide alone, decided by treasury staff on the record (four eyes above a threshold)',
  },
  {
    name: 'Reports',
    description: "The treasury's reports: collections per agency, fee and channel, and the state budget's share",
  },
  {
    name: 'Statements',
    description: "Gateways' settlement files and collecting accounts' bank statements, imported per source and business day",
  },
  { name: 'Audit', description: 'The append-only, hash-chained record of every action of a person on money' },
  { name: 'Indicators', description: "Decision 766's online-payment indicators, computed from the hub's own data" },
  { name: 'Campaigns', description: '30-day campaigns to raise the indicators of a subtree' },
  { name: 'National portal', description: 'What the national public service portal asks of the hub' },
  { name: 'Gateway callbacks', description: "Signed messages from the gateways and the payer's browser coming back; no bearer token" },
  { name: 'Operations', description: 'Liveness, readiness, keys and this documentation; no bearer token' },
];

/** A copy of `value` with every string equal to `from` replaced by `to`. */
function replaceString<T>(value: T, from: string, to: string): T {
  if (value === from) return to as T;
  if (Array.isArray(value)) return value.map((v) => replaceString(v, from, to)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceString(v, from, to)])) as T;
  }
  return value;
}
