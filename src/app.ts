import { OpenAPIHono } from '@hono/zod-openapi';
import { createMiddleware } from 'hono/factory';
import { languageDetector } from 'hono/language';
import { methodNotAllowed } from 'hono/method-not-allowed';
import { isConnectionError } from './db/errors.ts';
import { serviceContext } from './deps.ts';
import type { AppDeps, AppEnv } from './http/env.ts';
import { authenticate } from './http/middleware/auth.ts';
import { limitBodies } from './http/middleware/bodies.ts';
import { accessLog, closeUnreadBodies, requestId, wellFormedText } from './http/middleware/request.ts';
import { EVERY_OPERATION, errorResponses } from './http/openapi-errors.ts';
import { errorToResponse, problemResponse, zodIssues } from './http/problem.ts';
import { problemLanguages } from './http/problem-language.ts';
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
import { registerWebhookPages } from './http/routes/webhook-pages.ts';
import { registerWebhookRoutes } from './http/routes/webhooks.ts';
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
        // What was validated, for the messages that describe the value refused (in Vietnamese too).
        const input = 'data' in result ? result.data : undefined;
        return problemResponse(
          c as never,
          'validation-failed',
          'the request does not match the schema',
          zodIssues(result.error, prefix, input),
        );
      }
    },
  });

  app.use('*', requestId);
  // Problems in the caller's language: Accept-Language (q-values ranked), English unless Vietnamese is asked for.
  app.use('*', languageDetector({ supportedLanguages: [...problemLanguages], fallbackLanguage: 'en', order: ['header'], caches: false }));
  app.use('*', closeUnreadBodies);
  app.use(
    '*',
    createMiddleware<AppEnv>(async (c, next) => {
      const replay = { replayed: false };
      // Every line the request causes, down to a gateway's warning, carries its id.
      c.set('ctx', { ...services, log: services.log.child({ requestId: c.get('requestId') }), replay });
      c.set('pages', pages);
      await next();
      // The stored answer of an earlier request with the same Idempotency-Key (services/idempotency.ts).
      if (replay.replayed && c.res.status < 400) c.header('Idempotent-Replayed', 'true');
    }),
  );
  app.use('*', accessLog);
  // A path the hub has, asked with a method it does not take: 405 naming those it takes (Allow),
  // not 404. Hono's middleware indexes the routes by pattern once (path parameters included),
  // and looks only at requests that found no route.
  app.use(
    '*',
    methodNotAllowed<AppEnv>({
      app,
      onMethodNotAllowed: (c, methods) => {
        const response = problemResponse(
          c,
          'method-not-allowed',
          `${c.req.method} is not a method of ${c.req.path}; it takes ${methods.join(', ')}`,
          [{ path: 'method', message: `one of ${methods.join(', ')}`, messageVi: `một trong ${methods.join(', ')}` }],
        );
        response.headers.set('allow', methods.join(', '));
        return response;
      },
    }),
  );

  // The database away: a lost connection is answered 503 with Retry-After (never a 500). With a
  // breaker (the Node entry makes one per process: src/db/availability.ts), every later request
  // is answered so at once, instead of queueing behind connection attempts, until a probe finds
  // the database back. Workers build the app per request, so there each request finds out alone.
  const availability = deps.availability;
  const databaseAway = (c: Parameters<typeof problemResponse>[0]) =>
    problemResponse(c, 'service-unavailable', 'the database is unreachable; retry shortly', [], {
      retryAfterSeconds: availability?.settings.retryAfterSeconds ?? 2,
    });
  if (availability) {
    app.use('*', async (c, next) => {
      if (availability.down && !NO_DATABASE.has(c.req.path)) return databaseAway(c);
      await next();
    });
  }
  app.onError((error, c) => {
    if (isConnectionError(error)) {
      availability?.reportFailure();
      return databaseAway(c);
    }
    return errorToResponse(c, error);
  });
  app.notFound((c) => problemResponse(c, 'not-found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`));

  registerSystemRoutes(app);
  const limits = deps.rateLimits;
  registerCallbackRoutes(app, limits);
  registerReturnRoutes(app);
  if (limits) app.use('/receipts/lookup', limits.receiptLookups);
  registerReceiptLookupRoute(app);
  if (deps.oidc) registerOidcRoutes(app, deps.oidc);
  // A pasted token refused at the dashboard's sign-in counts as a failed authentication too.
  if (limits) app.use('/dashboard/session', async (c, next) => (c.req.method === 'POST' ? limits.failedAuth(c, next) : next()));
  registerDashboardRoutes(app, deps.verifier);
  registerWebhookPages(app);

  // Every other /v1 route needs a bearer token; callbacks and browser returns are authenticated by signatures.
  const auth = authenticate(deps.verifier);
  // An address that failed authentication too often is refused before its token is looked at;
  // a principal writing too fast is refused after it.
  const signedBySomethingElse = (path: string) => path.startsWith('/v1/callbacks/') || path.startsWith('/v1/returns/');
  if (limits) app.use('/v1/*', async (c, next) => (signedBySomethingElse(c.req.path) ? next() : limits.failedAuth(c, next)));
  app.use('/v1/*', async (c, next) => (signedBySomethingElse(c.req.path) ? next() : auth(c, next)));
  if (limits) app.use('/v1/*', limits.writes);
  const jsonBodyLimit = limitBodies(1024 * 1024, () => {
    throw new ServiceError('payload-too-large', 'request bodies are at most 1 MiB');
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
  registerWebhookRoutes(app);

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
    document ??= declareOnEveryOperation(
      app.getOpenAPI31Document({
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
      }),
    );
    const example = await deps.docs?.exampleDossier?.();
    return c.json(example ? replaceString(document, EXAMPLE_DOSSIER_CODE, example) : document);
  });

  return app;
}

export type App = ReturnType<typeof createApp>;

/** Paths answered without the database, so also while it is away. */
const NO_DATABASE = new Set(['/healthz', '/openapi.json', '/docs']);

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
  {
    name: 'Events',
    description:
      "What happened to a dossier's payments, told to dossier systems: signed webhooks (retried, in order per dossier) and a catch-up feed",
  },
  { name: 'National portal', description: 'What the national public service portal asks of the hub' },
  { name: 'Gateway callbacks', description: "Signed messages from the gateways and the payer's browser coming back; no bearer token" },
  { name: 'Operations', description: 'Liveness, readiness, keys and this documentation; no bearer token' },
];

/**
 * The document with what any operation may answer whatever it declares (a method its path does
 * not take, a rate limit, the database away) added to each operation that does not declare it.
 * The answers are generated as every route's are (errorResponses), through a one-operation document.
 */
function declareOnEveryOperation(document: OpenApiDocument): OpenApiDocument {
  const probe = new OpenAPIHono();
  probe.openAPIRegistry.registerPath({ method: 'get', path: '/', responses: errorResponses(EVERY_OPERATION) });
  const everywhere = probe.getOpenAPI31Document({ openapi: '3.1.0', info: { title: '', version: '' } }).paths?.['/']?.get?.responses;
  for (const item of Object.values(document.paths ?? {})) {
    for (const method of HTTP_METHODS) {
      const operation = item[method];
      if (!operation) continue;
      operation.responses = { ...everywhere, ...operation.responses };
      const idempotent = (operation.parameters ?? []).some(
        (p) => 'in' in p && p.in === 'header' && p.name.toLowerCase() === 'idempotency-key',
      );
      for (const [status, response] of Object.entries(operation.responses)) {
        if (!response || '$ref' in response) continue;
        const headers = RESPONSE_HEADERS[status] ?? (idempotent && status.startsWith('2') ? REPLAYED : undefined);
        if (headers) response.headers = { ...headers, ...response.headers };
      }
    }
  }
  return document;
}

const stringHeader = (description: string) => ({ description, schema: { type: 'string' as const } });
/** The headers that go with an answer, whichever operation gives it. */
const RESPONSE_HEADERS: Record<string, Record<string, ReturnType<typeof stringHeader>>> = {
  '405': { Allow: stringHeader('The methods this path takes') },
  '429': { 'Retry-After': stringHeader('Seconds to wait before asking again') },
  '503': { 'Retry-After': stringHeader('Seconds to wait before asking again') },
};
/** An answer replayed for an Idempotency-Key already used with this request. */
const REPLAYED = {
  'Idempotent-Replayed': stringHeader('`true` when this is the stored answer of an earlier request with the same Idempotency-Key'),
};

type OpenApiDocument = ReturnType<OpenAPIHono['getOpenAPI31Document']>;
const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;

/** A copy of `value` with `from` replaced by `to` in every string. */
function replaceString<T>(value: T, from: string, to: string): T {
  // Inside a longer text too (the national portal's MaTraCuuTT is the dossier code and a time).
  if (typeof value === 'string') return value.replaceAll(from, to) as T;
  if (Array.isArray(value)) return value.map((v) => replaceString(v, from, to)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceString(v, from, to)])) as T;
  }
  return value;
}
