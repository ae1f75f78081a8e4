import type { AddressInfo } from 'node:net';
import { type ServerType, serve } from '@hono/node-server';
import { SignJWT } from 'jose';
import { type App, createApp } from '../../src/app.ts';
import type { RateLimitSettings, TreasuryDaySettings } from '../../src/config.ts';
import type { DatabaseHandle } from '../../src/db/types.ts';
import { serviceContext } from '../../src/deps.ts';
import { DEFAULT_SCORING, type IndicatorSettings } from '../../src/domain/indicators.ts';
import { DEFAULT_DOSSIER_LIMITS, type DossierLimits } from '../../src/domain/plausibility.ts';
import { createEmulators, type EmulatorSettings } from '../../src/emulators/index.ts';
import { createRegistry } from '../../src/gateways/registry.ts';
import { createSandboxGateway } from '../../src/gateways/sandbox/adapter.ts';
import type { Gateway, GatewayId } from '../../src/gateways/types.ts';
import type { AppDeps } from '../../src/http/env.ts';
import { createTokenVerifier } from '../../src/http/middleware/auth.ts';
import { RateLimits } from '../../src/http/middleware/rate-limits.ts';
import type { Logger } from '../../src/logger.ts';
import { scalarBundleReader } from '../../src/node/docs-asset.ts';
import { createNodeLogger } from '../../src/node/logger.ts';
import { createSpreadsheets } from '../../src/node/spreadsheets.ts';
import { demoExampleDossier } from '../../src/seed/index.ts';
import type { ServiceContext } from '../../src/services/context.ts';
import type { Role } from '../../src/services/principal.ts';
import type { ReceiptsInBackground } from '../../src/services/receipt-issuer.ts';
import { createReceiptSigners, generateReceiptKey, type ReceiptSigners } from '../../src/services/receipt-signer.ts';
import type { WebhookSettings } from '../../src/services/webhook-endpoints.ts';
import { createOidcRelyingParty, type OidcSettings } from '../../src/web/oidc.ts';
import { createTestDatabase } from './database.ts';

export const TEST_JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';
const TEST_SESSION_SECRET = 'test-session-secret-long-enough-for-hmac-0123456789';
export const TEST_ISSUER = 'fee-payment-hub';
export const TEST_AUDIENCE = 'fee-payment-hub';
export const SANDBOX_SECRETS = ['sandbox-current-secret-0123456789', 'sandbox-previous-secret-9876543210'];
/** The test sandbox is first asked about a pending intent after a minute, then every two, three times. */
export const SANDBOX_POLLING = { startDelaySeconds: 60, intervalSeconds: 120, maxAttempts: 3 };

let sharedKey: Promise<string> | undefined;
const receiptKey = () => (sharedKey ??= generateReceiptKey().then((k) => JSON.stringify(k)));

export interface TokenOptions {
  role: Role;
  agencies?: string[];
  subject?: string;
  secret?: string;
  issuer?: string;
  audience?: string;
  expiresIn?: string | number;
  alg?: string;
}

export async function mintToken(options: TokenOptions): Promise<string> {
  const jwt = new SignJWT({ role: options.role, agencies: options.agencies ?? [] })
    .setProtectedHeader({ alg: options.alg ?? 'HS256' })
    .setSubject(options.subject ?? `${options.role}-user`)
    .setIssuer(options.issuer ?? TEST_ISSUER)
    .setAudience(options.audience ?? TEST_AUDIENCE)
    .setIssuedAt();
  if (typeof options.expiresIn === 'number') jwt.setExpirationTime(options.expiresIn);
  else jwt.setExpirationTime(options.expiresIn ?? '10m');
  return jwt.sign(new TextEncoder().encode(options.secret ?? TEST_JWT_SECRET));
}

interface RequestOptions {
  token?: string | null;
  body?: unknown;
  rawBody?: string | Uint8Array | ReadableStream<Uint8Array>;
  headers?: Record<string, string>;
}

/** What a request helper (test/helpers/factories.ts) needs of a hub: one request, answered. */
export type Requester = (method: string, path: string, options?: RequestOptions) => Promise<Response>;

function requestInit(method: string, opts: RequestOptions): RequestInit {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: RequestInit['body'] = opts.rawBody as RequestInit['body'];
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  // A streamed body needs `duplex: 'half'` (fetch's rule for request streams).
  const duplex = body instanceof ReadableStream ? { duplex: 'half' } : {};
  return { method, headers, body, ...duplex } as RequestInit;
}

/** Requests to a hub listening at `baseUrl` (a harness that listens, a hub process, workerd), redirects not followed. */
export const requestOverHttp =
  (baseUrl: string): Requester =>
  (method, path, opts = {}) =>
    fetch(`${baseUrl}${path}`, { ...requestInit(method, opts), redirect: 'manual' });

export interface Harness {
  db: DatabaseHandle;
  app: App;
  deps: AppDeps;
  ctx: ServiceContext;
  signer: ReceiptSigners;
  /** Log lines written during the test, parsed. */
  logs: Array<Record<string, unknown>>;
  clock: { now: Date | null };
  request: Requester;
  /** Starts the app on a real port (for the sandbox's real HTTP callbacks); base URL returned. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

/** What a test's gateway factory gets: the hub's base URL (changes on listen()), fetch and clock. */
export interface GatewayEnv {
  baseUrl: string;
  fetch: typeof fetch;
  now: () => Date;
}

/** The hub's operator in tests: named on receipts the hub issues on an agency's behalf. */
export const TEST_OPERATOR = { name: 'Trung tâm vận hành (thử nghiệm)', address: 'Số 1 đường Thử, Đồng Nai', taxCode: '3600000000' };

export interface HarnessOptions {
  /** Agencies that sign their own receipts: agency code → private EC P-256 JWK. */
  receiptAgencyKeys?: Record<string, JsonWebKey>;
  intentTtlMinutes?: number;
  sandbox?: boolean;
  /** The sandbox adapter's time limit on its calls (2 s): a test that makes it time out sets less. */
  sandboxTimeoutMs?: number;
  /** The most one sandbox payment may be (default: the adapter's, SANDBOX_MAX_AMOUNT_VND's default). */
  sandboxMaxAmount?: number;
  /** Plausibility limits of dossiers' fee inputs (defaults: DOSSIER_MAX_*'s). */
  dossierLimits?: Partial<DossierLimits>;
  fetch?: typeof fetch;
  /** More gateways (vnpay, vietqr, dvcqg), built again with the real base URL on listen(). */
  gateways?: (env: GatewayEnv) => Partial<Record<GatewayId, Gateway>>;
  refundApprovalThreshold?: number;
  reviewApprovalThreshold?: number;
  treasuryDay?: TreasuryDaySettings;
  /** false: no spreadsheet writer, as on Workers (format=xlsx answers 406). */
  spreadsheets?: boolean;
  /** 766 scoring curves and the source of indicator b (defaults: the domain file's, by dossiers). */
  indicators?: Partial<IndicatorSettings>;
  /** Channel emulators mounted beside the sandbox's checkout, built like `gateways` with the base URL. */
  emulators?: (env: GatewayEnv) => Omit<EmulatorSettings, 'sandbox'>;
  /** OpenID Connect sign-in for staff, built like `gateways` with the base URL (its redirect URI follows it). */
  oidc?: (env: GatewayEnv) => OidcSettings;
  /** The OpenAPI examples name a dossier of the database (as the embedded demo's do), not the fixed one. */
  exampleDossier?: boolean;
  /** No spreadsheet reader, as on Workers (XLSX uploads answer 415). */
  withoutSpreadsheets?: boolean;
  /** Delivery to dossier systems (defaults: TEST_WEBHOOKS, loopback receivers allowed). */
  webhooks?: Partial<WebhookSettings>;
  /** Rate limits in force (none by default). */
  rateLimits?: RateLimitSettings;
  /** A database of the test's own (a hub process's, already migrated) instead of a copy of the template. */
  database?: DatabaseHandle;
  /** Receipts issued in the background, as the Node hub and Workers do (default: before the paying call returns, as scripts do). */
  receiptsInBackground?: ReceiptsInBackground;
}

/** Webhooks in tests: receivers on loopback, a short retry schedule (tests move the clock), a short time limit. */
export const TEST_WEBHOOKS: WebhookSettings = {
  allowedHosts: ['dossiers.example.gov.vn'],
  allowLoopback: true,
  retrySchedule: [60, 300, 1800],
  timeoutMs: 2000,
  concurrency: 16,
  endpointConcurrency: 4,
  pollMs: 50,
  retentionDays: 30,
};

/**
 * One app over one fresh database, wired the way server.ts wires it, with a controllable clock
 * and captured logs. `listen()` rebuilds the app with the real base URL, since gateways call back.
 */
export async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  const db = options.database ?? (await createTestDatabase());
  const signer = await createReceiptSigners(await receiptKey(), options.receiptAgencyKeys);
  const logs: Array<Record<string, unknown>> = [];
  // The Node entry's logger (pino), writing into `logs` instead of standard output.
  const log: Logger = createNodeLogger('debug', { write: (line) => logs.push(JSON.parse(line)) });
  const clock: { now: Date | null } = { now: null };
  const now = () => clock.now ?? new Date();
  let server: ServerType | undefined;
  let baseUrl = 'http://hub.test';
  // /docs serves Scalar's bundle as the Node entry does (read once, shared by rebuilds).
  const docsBundle = scalarBundleReader();

  const build = (): { app: App; deps: AppDeps } => {
    const fetcher = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
    const sandbox =
      options.sandbox === false
        ? undefined
        : createSandboxGateway({
            secrets: SANDBOX_SECRETS,
            baseUrl,
            toleranceSeconds: 300,
            fetch: fetcher,
            now,
            timeoutMs: options.sandboxTimeoutMs ?? 2000,
            polling: SANDBOX_POLLING,
            maxAmount: options.sandboxMaxAmount,
          });
    const oidc = options.oidc?.({ baseUrl, fetch: fetcher, now });
    const deps: AppDeps = {
      db: db.db,
      replica: db.replica,
      databaseKind: db.kind,
      settings: {
        publicBaseUrl: baseUrl,
        intentTtlMinutes: options.intentTtlMinutes ?? 30,
        expiryUnknownGraceMinutes: 60,
        refundApprovalThreshold: options.refundApprovalThreshold ?? 2_000_000,
        reviewApprovalThreshold: options.reviewApprovalThreshold ?? 2_000_000,
        dossierLimits: { ...DEFAULT_DOSSIER_LIMITS, ...options.dossierLimits },
        treasuryDay: options.treasuryDay ?? { sources: {}, missingFlagDays: 3, amountTimeWindowMinutes: 30 },
        indicators: { scoring: DEFAULT_SCORING, integrationSource: 'dossiers', ...options.indicators },
        collectionForms: { direct: 1, online: 2, postal: 3 },
        receipts: {
          formSymbol: 'EBL01',
          seriesLetters: 'HP',
          operator: { name: TEST_OPERATOR.name, address: TEST_OPERATOR.address, taxCode: TEST_OPERATOR.taxCode },
          agencyKeys: {},
        },
        webhooks: { ...TEST_WEBHOOKS, ...options.webhooks },
        inbox: { rejectedRetentionDays: 30 },
      },
      rateLimits: options.rateLimits && new RateLimits(options.rateLimits),
      gateways: createRegistry({ ...options.gateways?.({ baseUrl, fetch: fetcher, now }), sandbox }),
      signer,
      verifier: createTokenVerifier({ secret: TEST_JWT_SECRET, issuer: TEST_ISSUER, audience: TEST_AUDIENCE }),
      session: { secret: TEST_SESSION_SECRET, ttlMinutes: 30 },
      log,
      spreadsheets: options.spreadsheets === false || options.withoutSpreadsheets ? undefined : createSpreadsheets(),
      now,
      fetch: fetcher,
      oidc: oidc && createOidcRelyingParty(oidc, fetcher),
      oidcEnabled: oidc !== undefined,
      // The outside world, mounted as the Node entry mounts it (src/node/emulators.ts).
      extraRoutes:
        options.sandbox === false
          ? []
          : [
              createEmulators(
                { db: db.db, publicBaseUrl: baseUrl, fetch: fetcher, log, now },
                { sandbox: { secrets: SANDBOX_SECRETS, toleranceSeconds: 300 }, ...options.emulators?.({ baseUrl, fetch: fetcher, now }) },
              ),
            ],
      receiptsInBackground: options.receiptsInBackground,
      docs: { bundle: docsBundle, exampleDossier: options.exampleDossier ? () => demoExampleDossier(serviceContext(deps)) : undefined },
    };
    return { app: createApp(deps), deps };
  };

  let built = build();

  const harness: Harness = {
    db,
    get app() {
      return built.app;
    },
    get deps() {
      return built.deps;
    },
    get ctx() {
      return serviceContext(built.deps);
    },
    signer,
    logs,
    clock,
    async request(method, path, opts = {}) {
      if (server) return requestOverHttp(baseUrl)(method, path, opts);
      return built.app.request(path, requestInit(method, opts));
    },
    async listen() {
      if (server) return baseUrl;
      const started = await new Promise<ServerType>((resolve) => {
        const s = serve({ fetch: (req) => built.app.fetch(req), port: 0, hostname: '127.0.0.1' }, () => resolve(s));
      });
      server = started;
      baseUrl = `http://127.0.0.1:${(started.address() as AddressInfo).port}`;
      built = build();
      return baseUrl;
    },
    async close() {
      if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
      await db.close();
    },
  };
  return harness;
}

/** Reads a JSON body, failing the test with the body text when it is not JSON. */
export async function json<T = any>(response: Response): Promise<T> {
  const text = await response.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`expected JSON, got ${response.status}: ${text.slice(0, 500)}`);
  }
}
