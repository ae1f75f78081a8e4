import type { Hono } from 'hono';
import type { DatabaseAvailability } from '../db/availability.ts';
import type { Database } from '../db/types.ts';
import type { GatewayRegistry } from '../gateways/registry.ts';
import type { Logger } from '../logger.ts';
import type { ServiceContext, ServiceSettings } from '../services/context.ts';
import type { ErrorCode } from '../services/errors.ts';
import type { Principal } from '../services/principal.ts';
import type { ReceiptsInBackground } from '../services/receipt-issuer.ts';
import type { ReceiptSigners } from '../services/receipt-signer.ts';
import type { Spreadsheets } from '../services/spreadsheets.ts';
import type { OidcRelyingParty } from '../web/oidc.ts';
import type { WebSession } from '../web/session.ts';
import type { TokenVerifier } from './middleware/auth.ts';
import type { RateLimits } from './middleware/rate-limits.ts';

/** What the app is built from: everything with I/O is passed in, nothing is a module singleton. */
export interface AppDeps {
  db: Database;
  /** The replica reports read (DATABASE_READ_URL, services/context.ts onReplica); undefined: the primary. */
  replica?: Database;
  databaseKind: 'embedded' | 'server';
  settings: ServiceSettings;
  gateways: GatewayRegistry;
  signer: ReceiptSigners;
  verifier: TokenVerifier;
  /** The dashboard's signed session cookie (src/web/session.ts). */
  session: SessionSettings;
  log: Logger;
  /** Writes and reads XLSX (ExcelJS, Node-only: src/node/spreadsheets.ts); absent on Workers, where `format=xlsx` answers 406 and an XLSX upload 415. */
  spreadsheets?: Spreadsheets;
  now?: () => Date;
  fetch?: typeof fetch;
  /** Staff sign-in through the province's identity provider (src/http/routes/oidc.ts), when configured. */
  oidc?: OidcRelyingParty;
  /** Whether the sign-in page offers that sign-in: true exactly when `oidc` is set. */
  oidcEnabled?: boolean;
  /**
   * More routes, mounted at the root beside the API (request id and access log, no bearer
   * token). The Node entry and the tests mount the demo's emulators here (src/emulators/): the
   * app never imports them, so the Workers bundle has none.
   */
  extraRoutes?: readonly Hono[];
  docs?: DocsDeps;
  /** The process's breaker (src/db/availability.ts, made by the Node entry): while the database is away, 503 at once. */
  availability?: DatabaseAvailability;
  /** Issues committed payments' receipts in the background (services/receipt-issuer.ts): the Node hub's issuer, a Workers request's waitUntil. */
  receiptsInBackground?: ReceiptsInBackground;
  /**
   * Rate limits and their counts (src/http/middleware/rate-limits.ts), built once per process or
   * isolate so that they outlive the app (Workers build one per request); none when absent.
   */
  rateLimits?: RateLimits;
}

export interface SessionSettings {
  /** HMAC-SHA256 key of the cookie (SESSION_SECRET, at least 32 characters). */
  secret: string;
  /** A session ends this long after its last request, and never after the token it was made from. */
  ttlMinutes: number;
}

/** What /docs and /openapi.json get from their host (all optional: Workers passes none). */
export interface DocsDeps {
  /**
   * Scalar's browser bundle, served at /docs/assets/… by the app. The Node entry and the tests
   * read it from node_modules (node/docs-asset.ts); Workers serves it as a static asset instead,
   * so the Worker's bundle never carries it.
   */
  bundle?: () => Promise<ReadableStream<Uint8Array<ArrayBuffer>> | Uint8Array<ArrayBuffer> | string>;
  /**
   * A dossier of this hub's demo data to name in the document's examples (so "try it" finds it),
   * in place of `EXAMPLE_DOSSIER_CODE`. Only the embedded demo passes one: a real hub's
   * document never shows a real dossier.
   */
  exampleDossier?: () => Promise<string | undefined>;
}

export interface AppEnv {
  Variables: {
    requestId: string;
    principal?: Principal;
    ctx: ServiceContext;
    /** The pages' settings (set for every request, so that any /dashboard route may use sessions). */
    pages: { session: SessionSettings; oidcEnabled: boolean };
    /** The signed-in person of a /dashboard page (src/web/session.ts `requireSession`). */
    session?: WebSession;
    /** The language problems are answered in (`Accept-Language`: en or vi; app.ts). */
    language?: string;
    /** The problem answered, if any, for the access log. */
    problem?: { code: ErrorCode; detail: string };
  };
}
