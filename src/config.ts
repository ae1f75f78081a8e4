import { z } from 'zod';
import { DEFAULT_SCORING, type IndicatorSettings, indicatorKeys, integrationSources, type Scoring } from './domain/indicators.ts';
import { DEFAULT_DOSSIER_LIMITS, type DossierLimits } from './domain/plausibility.ts';
import type { GatewaysSettings } from './gateways/configure.ts';
import { DVCQG_DEFAULT_MAX_AMOUNT } from './gateways/dvcqg/adapter.ts';
import { DVCQG_ALGORITHMS } from './gateways/dvcqg/protocol.ts';
import { SANDBOX_DEFAULT_MAX_AMOUNT } from './gateways/sandbox/adapter.ts';
import type { PollingSchedule } from './gateways/types.ts';
import { VIETQR_AMOUNT_FIELD_MAX, VIETQR_DEFAULT_MAX_AMOUNT } from './gateways/vietqr/adapter.ts';
import { type Role, roles } from './services/principal.ts';
import type { WebhookSettings } from './services/webhook-endpoints.ts';
import type { OidcSettings } from './web/oidc.ts';

/**
 * The environment, parsed once by this schema at the entry point (Node: server.ts and the
 * scripts; Workers: worker.ts). Nothing else reads `process.env`. A bad value stops the start
 * with a message naming the variable.
 */
const list = z.string().transform((s) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
);

/** `a|b|c`: a field order for a pipe-joined hash, kept in configuration since versions differ. */
const fieldOrder = (fallback: readonly string[]) =>
  z
    .string()
    .optional()
    .transform((s) => (s && s.trim() !== '' ? s.split('|').map((x) => x.trim()) : [...fallback]))
    .pipe(z.array(z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'field names are letters, digits and _')).min(1));

/** `startDelay,interval,maxAttempts` in seconds, seconds and a count. */
const pollingSchedule = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((s, ctx) => {
      const parts = s.split(',').map((x) => Number(x.trim()));
      if (parts.length !== 3 || parts.some((n) => !Number.isInteger(n) || n < 0) || parts[1]! < 1) {
        ctx.addIssue({ code: 'custom', message: 'expected "startDelaySeconds,intervalSeconds,maxAttempts", e.g. "600,900,8"' });
        return z.NEVER;
      }
      return { startDelaySeconds: parts[0]!, intervalSeconds: parts[1]!, maxAttempts: parts[2]! };
    });

/** A gateway's largest payment in whole VND: at least 1, at most what its protocol can carry. */
const maxAmount = (fallback: number, ceiling = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(1).max(ceiling).default(fallback);

/** `a:0.8:2,b:0.8:2,c:1:6`: threshold rate and maximum points of indicators a, b and c. */
const DECIMAL = /^\d+(\.\d+)?$/;
const scoringSchema = z
  .string()
  .optional()
  .transform((s, ctx) => {
    const scoring: Scoring = structuredClone(DEFAULT_SCORING);
    for (const part of (s ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean)) {
      const [key, threshold, maxPoints, ...rest] = part.split(':').map((x) => x.trim());
      const indicator = { a: indicatorKeys[0], b: indicatorKeys[1], c: indicatorKeys[2] }[key ?? ''];
      const valid =
        indicator &&
        rest.length === 0 &&
        threshold &&
        maxPoints &&
        DECIMAL.test(threshold) &&
        DECIMAL.test(maxPoints) &&
        Number(threshold) > 0 &&
        Number(threshold) <= 1 &&
        Number(maxPoints) > 0;
      if (!valid) {
        ctx.addIssue({
          code: 'custom',
          message: `expected "a|b|c:threshold:maxPoints" with 0 < threshold ≤ 1, e.g. "c:0.3:6"; got "${part}"`,
        });
        return z.NEVER;
      }
      scoring[indicator] = { threshold, maxPoints };
    }
    return scoring;
  });

/** `direct:1,online:2,postal:3`: the code synchronised as HinhThucThu for each way a fee is collected. */
const collectionFormSchema = z
  .string()
  .default('direct:1,online:2,postal:3')
  .transform((s, ctx) => {
    const forms: Record<string, number> = {};
    for (const part of s
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean)) {
      const [channel, code] = part.split(':').map((x) => x.trim());
      if (!channel || !['direct', 'online', 'postal'].includes(channel) || !code || !/^\d{1,3}$/.test(code)) {
        ctx.addIssue({ code: 'custom', message: `expected "direct:1,online:2,postal:3"; got "${part}"` });
        return z.NEVER;
      }
      forms[channel] = Number(code);
    }
    if (!['direct', 'online', 'postal'].every((c) => c in forms)) {
      ctx.addIssue({ code: 'custom', message: 'give a code for each of direct, online and postal' });
      return z.NEVER;
    }
    return forms as Record<'direct' | 'online' | 'postal', number>;
  });

/** `ke-toan:treasury,lanh-dao:campaign`: the IdP's role values and the hub role each one means. */
const roleMapSchema = z.string().transform((s, ctx) => {
  const map: Record<string, Role> = {};
  for (const part of s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)) {
    const at = part.lastIndexOf(':');
    const [value, role] = [part.slice(0, at).trim(), part.slice(at + 1).trim()];
    if (at < 1 || !value || !(roles as readonly string[]).includes(role) || value in map) {
      ctx.addIssue({
        code: 'custom',
        message: `expected "idpValue:role,…" with a role among ${roles.join(', ')}, each value once; got "${part}"`,
      });
      return z.NEVER;
    }
    map[value] = role as Role;
  }
  return map;
});

const claimName = (fallback: string) => z.string().trim().min(1).default(fallback);

const optionalString = z
  .string()
  .optional()
  .transform((s) => (s && s.trim() !== '' ? s.trim() : undefined));

/**
 * A PostgreSQL URL naming one host or several, comma-separated, as libpq and postgres.js read it.
 * A WHATWG URL refuses a host list, so each host is checked in a URL of its own.
 */
const POSTGRES_URL = /^(postgres(?:ql)?:\/\/)([^@/?#]*@)?([^/?#]*)(.*)$/s;
const postgresUrl = z.string().refine(
  (value) => {
    const parts = POSTGRES_URL.exec(value);
    if (!parts) return false;
    const [, scheme, user = '', hosts = '', rest = ''] = parts;
    return hosts.split(',').every((host) => {
      if (host === '') return false;
      try {
        return new URL(`${scheme}${user}${host}${rest}`).hostname !== '';
      } catch {
        return false;
      }
    });
  },
  { message: 'must be postgres://user@host[:port][,host[:port]…]/database' },
);

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /**
   * Interface the Node server listens on. Default: 127.0.0.1 for the embedded demo, whose
   * emulator pages "pay" anything for anyone who reaches them, so only this machine may;
   * 0.0.0.0 with a server database (production, in a container or behind a proxy). Set
   * HOST=0.0.0.0 to show the demo to another machine.
   */
  HOST: optionalString,
  /**
   * postgres://… selects the server database (postgres.js); absent selects embedded PGlite. It
   * may name several hosts (`postgres://hub@db1:5432,db2:5432/hub?target_session_attrs=read-write`):
   * a new connection tries them in order and keeps the first that takes writes, so after a
   * standby is promoted the hub finds the new primary by itself.
   */
  DATABASE_URL: optionalString.pipe(postgresUrl.optional()),
  /**
   * A replica for reports (indicators, campaign progress, lists, the collections report), never
   * for what decides money; absent: they read the primary. Same form as DATABASE_URL.
   */
  DATABASE_READ_URL: optionalString.pipe(postgresUrl.optional()),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  /** Seconds a new database connection may take: past it, requests get 503 instead of queueing. */
  DATABASE_CONNECT_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(60).default(3),
  /** Prepared statements save a round trip per query; turn off behind a transaction-mode pooler. */
  DATABASE_PREPARE: z.enum(['true', 'false']).default('true'),
  /** Embedded database folder, and where the embedded mode keeps the secrets it generates. */
  DATA_DIR: z.string().default('.data'),
  /** Base URL the hub is reached at: gateways call back here, checkout pages link here. */
  PUBLIC_BASE_URL: optionalString.pipe(z.url().optional()),
  JWT_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  JWT_JWKS_URL: optionalString.pipe(z.url().optional()),
  JWT_ISSUER: z.string().min(1).default('fee-payment-hub'),
  JWT_AUDIENCE: z.string().min(1).default('fee-payment-hub'),
  /** Key of the dashboard's signed session cookie (HMAC-SHA256); required with DATABASE_URL. */
  SESSION_SECRET: optionalString.pipe(z.string().min(32, 'must be at least 32 characters').optional()),
  /** A dashboard session ends after this many minutes without a request (never after the token's expiry). */
  SESSION_TTL_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(12 * 60)
    .default(30),
  /** Private JWK (JSON) the hub signs receipts with; its public half is at /.well-known/jwks.json. */
  RECEIPT_SIGNING_KEY: optionalString,
  /** Node: worker threads that sign receipts off the event loop; unset, one fewer than the machine's cores (at least one). */
  RECEIPT_SIGNING_THREADS: z.coerce.number().int().min(1).max(64).optional(),
  // --- Receipts (Decree 254/2026/NĐ-CP, Circular 91/2026/TT-BTC; the symbols' shapes are reported defaults) ---
  /** Collecting organisations that sign their own receipts: a JSON object of agency code → private EC P-256 JWK. */
  RECEIPT_AGENCY_KEYS: optionalString.pipe(
    z
      .string()
      .transform((text, ctx) => {
        try {
          const parsed = JSON.parse(text) as unknown;
          if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, Record<string, unknown>>;
        } catch {}
        ctx.addIssue({ code: 'custom', message: 'must be a JSON object of agency code → private JWK' });
        return z.NEVER;
      })
      .optional(),
  ),
  /** Form symbol (ký hiệu mẫu) of an agency that registered none: Circular 91/2026 Appendix II's shape for receipts without face value. */
  RECEIPT_FORM_SYMBOL: z
    .string()
    .regex(/^[A-Z0-9-]{1,11}$/)
    .default('EBL01'),
  /** Series letters of an agency that registered none: the series is the year's two digits, `T`, and these (`26THP`). */
  RECEIPT_SERIES_LETTERS: z
    .string()
    .regex(/^[A-Z]{2}$/)
    .default('HP'),
  /** The hub's operator, printed on receipts it issues on an organisation's behalf (a service provider must be named). */
  HUB_OPERATOR_NAME: z.string().min(1).default('Trung tâm vận hành Cổng thanh toán phí, lệ phí (demo)'),
  HUB_OPERATOR_ADDRESS: z.string().min(1).default('Số 1 đường Demo, phường Trấn Biên, tỉnh Đồng Nai'),
  HUB_OPERATOR_TAX_CODE: optionalString.pipe(
    z
      .string()
      .regex(/^\d{10}(-\d{3})?$/, 'must be a tax code: 10 digits, or 10-3')
      .optional(),
  ),
  /** Sandbox gateway secrets, comma-separated: the first signs, every one verifies (rotation). */
  SANDBOX_SECRETS: optionalString.pipe(list.optional()),
  /**
   * Where the sandbox's hosted checkout and API live. Default: the hub itself (PUBLIC_BASE_URL),
   * which the Node hub serves. Workers serve no checkout: there it names a Node hub's (`npm start`).
   */
  SANDBOX_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  SANDBOX_POLL: pollingSchedule('60,120,10'),
  /** The most one sandbox payment may be (VND); more is refused at intent creation, as a real gateway's limit is. */
  SANDBOX_MAX_AMOUNT_VND: maxAmount(SANDBOX_DEFAULT_MAX_AMOUNT),
  // --- VNPay 2.1.0 -------------------------------------------------------------------------
  VNPAY_TMN_CODE: optionalString,
  /** Comma-separated: the first signs, every one verifies (rotation). */
  VNPAY_HASH_SECRET: optionalString.pipe(list.optional()),
  VNPAY_PAYMENT_URL: z.url().default('https://sandbox.vnpayment.vn/paymentv2/vpcpay.html'),
  VNPAY_API_URL: z.url().default('https://sandbox.vnpayment.vn/merchant_webapi/api/transaction'),
  /** How the signed query is percent-encoded: PHP urlencode (VNPay's samples) or URLSearchParams. */
  VNPAY_ENCODING: z.enum(['php', 'form']).default('php'),
  /** The hub's own IP, sent as vnp_IpAddr in querydr and refund requests. */
  VNPAY_SERVER_IP: z.string().min(1).default('127.0.0.1'),
  VNPAY_POLL: pollingSchedule('600,900,8'),
  // --- VietQR bank transfer ----------------------------------------------------------------
  /** Secrets the bank's credit notifications are signed with, comma-separated (rotation). */
  VIETQR_NOTIFY_SECRET: optionalString.pipe(list.optional()),
  VIETQR_SIGNATURE_HEADER: z
    .string()
    .min(1)
    .default('x-signature')
    .transform((s) => s.toLowerCase()),
  /** Which bank's notification layout to read: the hub's own JSON, or a mapped bank format. */
  VIETQR_NOTIFY_FORMAT: z.enum(['standard', 'sepay']).default('standard'),
  /** API keys a notification may carry as `Authorization: Apikey <key>` (SePay's API-key mode), comma-separated (rotation). */
  VIETQR_NOTIFY_API_KEY: optionalString.pipe(list.optional()),
  VIETQR_SERVICE: z.enum(['QRIBFTTA', 'QRIBFTTC']).default('QRIBFTTA'),
  /** The most one VietQR transfer may be (VND): the payer's bank moves it as one NAPAS 24/7 transfer. */
  VIETQR_MAX_AMOUNT_VND: maxAmount(VIETQR_DEFAULT_MAX_AMOUNT, VIETQR_AMOUNT_FIELD_MAX),
  // --- National public service portal payment platform (PP-DVCQG) ---------------------------
  DVCQG_PARTNER_CODE: optionalString,
  DVCQG_HASH_KEY: optionalString.pipe(list.optional()),
  DVCQG_INIT_URL: optionalString.pipe(z.url().optional()),
  /** Optional status look-up endpoint; without it the platform is never polled. */
  DVCQG_QUERY_URL: optionalString.pipe(z.url().optional()),
  DVCQG_VERSION: z.string().min(1).default('1.0.0'),
  /**
   * MaXacThuc: `SHA256-KEY` = hex(SHA-256(fields joined by | + "|" + key)), as the production
   * integrations compute it (OpenCPS, a .NET provincial system); the HMACs for older versions.
   */
  DVCQG_HASH_ALGORITHM: z.enum(DVCQG_ALGORITHMS).default('SHA256-KEY'),
  DVCQG_INIT_FIELDS: fieldOrder([
    'LoaiBanTin',
    'PhienBan',
    'MaDoiTac',
    'MaThamChieu',
    'SoTien',
    'LoaiHinhThanhToan',
    'MaKenhThanhToan',
    'MaThietBi',
    'NgonNgu',
    'MaTienTe',
    'MaNganHang',
    'ThongTinGiaoDich',
    'ThoiGianGD',
    'Ip',
  ]),
  /** The confirm (DPNhanKQThanhToanHS) as OpenCPS verifies it: the result (MaLoi) and the transaction (MaGiaoDich) are signed. */
  DVCQG_CONFIRM_FIELDS: fieldOrder([
    'LoaiBanTin',
    'MaLoi',
    'MaDoiTac',
    'MaThamChieu',
    'SoTien',
    'MaTienTe',
    'MaGiaoDich',
    'MaNganHang',
    'ThoiGianGD',
    'ThongTinGiaoDich',
  ]),
  /** The province's answer to a confirm; its layout is not published, so this is a choice. */
  DVCQG_ANSWER_FIELDS: fieldOrder(['MaLoi', 'MaDoiTac', 'MaThamChieu', 'ThoiGianGD']),
  /** Which field of the platform's init answer holds the payer's redirect URL. */
  DVCQG_REDIRECT_FIELD: z.string().min(1).default('UrlThanhToan'),
  /** MaDVC (the national public-service code) is the procedure code followed by this (the .NET integration uses `.01`). */
  DVCQG_SERVICE_CODE_SUFFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]{0,20}$/, 'at most 20 letters, digits, ".", "_" or "-"')
    .default(''),
  /** KhoBac of the receipt block: the State Treasury office, where the operator knows it (OpenCPS sends '' for procedure fees). */
  DVCQG_TREASURY: z.string().max(200).default(''),
  DVCQG_POLL: pollingSchedule('600,900,8'),
  /** The most one payment through the national platform may be (VND; the platform publishes no limit). */
  DVCQG_MAX_AMOUNT_VND: maxAmount(DVCQG_DEFAULT_MAX_AMOUNT),
  /** Outbound gateway calls (init, status query, refund) give up after this long: "unknown". */
  GATEWAY_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /** A refund above this many VND needs a second treasury user's approval. */
  REFUND_APPROVAL_THRESHOLD_VND: z.coerce.number().int().min(0).default(2_000_000),
  /** A review decision (accept, assign, manual refund) on more than this many VND needs a second treasury user. */
  REVIEW_APPROVAL_THRESHOLD_VND: z.coerce.number().int().min(0).default(2_000_000),
  /**
   * Plausibility limits of a dossier's fee inputs, checked before anything is written (400 on the
   * field): the largest declared value, quantity and copies, and how many days ahead of today a
   * receipt may be dated. A receipt before the catalogue's first fee rule is refused too.
   */
  DOSSIER_MAX_DECLARED_VALUE_VND: z.coerce
    .number()
    .int()
    .min(1)
    .max(Number.MAX_SAFE_INTEGER)
    .default(DEFAULT_DOSSIER_LIMITS.maxDeclaredValue),
  DOSSIER_MAX_QUANTITY: z.coerce.number().int().min(1).max(100_000).default(DEFAULT_DOSSIER_LIMITS.maxQuantity),
  DOSSIER_MAX_COPIES: z.coerce.number().int().min(1).max(1_000).default(DEFAULT_DOSSIER_LIMITS.maxCopies),
  DOSSIER_MAX_DAYS_AHEAD: z.coerce.number().int().min(0).max(366).default(DEFAULT_DOSSIER_LIMITS.maxDaysAhead),
  /**
   * Whose statements each gateway's are (the agency holding the merchant account; absent: the
   * province root) and the bank account each gateway settles into (the three-way view).
   */
  VNPAY_AGENCY_CODE: optionalString,
  VNPAY_SETTLEMENT_ACCOUNT: optionalString,
  DVCQG_AGENCY_CODE: optionalString,
  DVCQG_SETTLEMENT_ACCOUNT: optionalString,
  SANDBOX_AGENCY_CODE: optionalString,
  SANDBOX_SETTLEMENT_ACCOUNT: optionalString,
  /** A payment still missing from its gateway's statements this many days later is flagged again. */
  RECONCILIATION_MISSING_FLAG_DAYS: z.coerce.number().int().min(1).max(60).default(3),
  /** Matching on amount alone accepts a statement line this many minutes from the hub's payment time. */
  RECONCILIATION_TIME_WINDOW_MINUTES: z.coerce.number().int().min(1).max(1440).default(30),
  /** The largest statement file POST /v1/statements takes (bytes; the rest of the API keeps 1 MiB). */
  STATEMENT_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(4 * 1024 * 1024 * 1024)
    .default(200 * 1024 * 1024),
  INTENT_TTL_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 60)
    .default(30),
  CALLBACK_TOLERANCE_SECONDS: z.coerce.number().int().min(1).max(3600).default(300),
  /** After its expiry, an intent whose gateway cannot be asked stays pending this long. */
  EXPIRY_UNKNOWN_GRACE_MINUTES: z.coerce
    .number()
    .int()
    .min(0)
    .default(24 * 60),
  /** 766 scoring curves: threshold rate and points of indicators a, b, c (c is unconfirmed). */
  INDICATOR_SCORING: scoringSchema,
  /** Where indicator b's numerator comes from: dossiers with non-zero synced fees, or the catalogue flag. */
  INDICATOR_B_NUMERATOR: z.enum(integrationSources).default('dossiers'),
  /** HinhThucThu codes of the DVCQG dossier sync (not published: configurable). */
  DVCQG_SYNC_COLLECTION_FORMS: collectionFormSchema,
  // --- OpenID Connect sign-in for staff (all of issuer, client id and secret, or none) ---------
  /** The province's identity provider; its metadata is discovered from /.well-known/openid-configuration. */
  OIDC_ISSUER: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  OIDC_CLIENT_ID: optionalString,
  OIDC_CLIENT_SECRET: optionalString,
  /** Default: PUBLIC_BASE_URL + /dashboard/oidc/callback (register exactly this at the IdP). */
  OIDC_REDIRECT_URI: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  OIDC_SCOPES: z
    .string()
    .default('openid profile')
    .transform((s) => s.split(/[\s,]+/).filter(Boolean))
    .refine((scopes) => scopes.includes('openid'), 'must include openid'),
  OIDC_ROLE_CLAIM: claimName('role'),
  /** Absent: the role claim's value must already be a hub role (portal, treasury, campaign, admin). */
  OIDC_ROLE_MAP: optionalString.pipe(roleMapSchema.optional()),
  OIDC_AGENCIES_CLAIM: claimName('agencies'),
  OIDC_SUBJECT_CLAIM: claimName('sub'),
  /**
   * Domains a webhook endpoint's host must be (or be under), comma-separated. Loopback hosts are
   * allowed outside production only (development receivers).
   */
  WEBHOOK_ALLOWED_HOSTS: list
    .pipe(z.array(z.string().regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i, 'a domain name')))
    .default([]),
  /** Seconds to wait after each failed attempt; after the last, the delivery has failed (a person may re-send it). */
  WEBHOOK_RETRY_SCHEDULE: list
    .pipe(
      z
        .array(
          z
            .string()
            .regex(/^\d{1,6}$/, 'whole seconds')
            .transform(Number)
            .pipe(z.number().max(7 * 86_400)),
        )
        .min(1)
        .max(30),
    )
    .default([60, 300, 1800, 7200, 21_600, 43_200, 86_400]),
  /** A receiver that has not answered after this long has failed this attempt. */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  /** Deliveries in flight at once per worker, and per endpoint (a slow receiver holds only its own). */
  WEBHOOK_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(32),
  WEBHOOK_ENDPOINT_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /** How often an idle Node worker looks for deliveries (ms). */
  WEBHOOK_POLL_MS: z.coerce.number().int().min(10).max(60_000).default(500),
  /** Events are served by GET /v1/events, and kept, this many days. */
  EVENT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /**
   * Rate limits, per minute, answered 429 with Retry-After (0 turns one off): writes per principal
   * (a portal's peak is far below), failed authentications, public receipt look-ups and callback
   * messages whose signature fails per source address. A gateway's verified message is never limited.
   */
  RATE_LIMIT_WRITES_PER_MINUTE: z.coerce.number().int().min(0).default(6000),
  RATE_LIMIT_FAILED_AUTH_PER_MINUTE: z.coerce.number().int().min(0).default(60),
  RATE_LIMIT_RECEIPT_LOOKUPS_PER_MINUTE: z.coerce.number().int().min(0).default(120),
  RATE_LIMIT_BAD_CALLBACKS_PER_MINUTE: z.coerce.number().int().min(0).default(60),
  /** Behind a reverse proxy: the source address is the right-most X-Forwarded-For entry, not the socket's. */
  TRUST_PROXY: z.enum(['true', 'false']).default('false'),
  /** Callback messages refused for their signature are deleted after this many days (accepted ones are kept). */
  INBOX_REJECTED_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  /** In-process job interval on Node (0 turns it off; `npm run jobs` runs them once). */
  JOBS_INTERVAL_SECONDS: z.coerce.number().int().min(0).default(60),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
});

/** The treasury's day (issue 11): who owns each gateway's statements, and how matching is tuned. */
export interface TreasuryDaySettings {
  sources: Partial<Record<'vnpay' | 'dvcqg' | 'sandbox', { agencyCode?: string; settlementAccount?: string }>>;
  missingFlagDays: number;
  amountTimeWindowMinutes: number;
  /** The largest statement file an upload takes, in bytes (STATEMENT_MAX_BYTES; default 200 MB). */
  statementMaxBytes?: number;
}

/** How receipts are issued (services/receipts.ts). */
interface ReceiptSettings {
  formSymbol: string;
  seriesLetters: string;
  operator: { name: string; address: string; taxCode: string | null };
  /** Agency code → private JWK, for organisations that sign their own receipts. */
  agencyKeys: Record<string, Record<string, unknown>>;
  /** Node's receipt-signing threads (src/node/signing-pool.ts); undefined: cores - 1. */
  signingThreads?: number;
}

/** The gateways' settings are the adapters' own types: the parsed environment must satisfy them. */
export type GatewaysConfig = GatewaysSettings;

export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  database:
    | { kind: 'embedded'; dataDir: string }
    | {
        kind: 'server';
        url: string;
        poolMax: number;
        prepare: boolean;
        connectTimeoutSeconds: number;
        /** A replica for reports (DATABASE_READ_URL), or undefined: they read the primary. */
        readUrl: string | undefined;
      };
  dataDir: string;
  publicBaseUrl: string;
  auth: { secret?: string; jwksUrl?: string; issuer: string; audience: string };
  session: { secret?: string; ttlMinutes: number };
  receiptSigningKey?: string;
  receipts: ReceiptSettings;
  sandbox: { secrets: string[] } | undefined;
  /** Where the sandbox's checkout and API are hosted (SANDBOX_URL; default the hub's own base URL). */
  sandboxUrl: string;
  sandboxPolling: PollingSchedule;
  /** The most one sandbox payment may be (VND). */
  sandboxMaxAmount: number;
  /** Gateways configured by the environment (the embedded demo fills the rest: node/runtime.ts). */
  gateways: GatewaysConfig;
  refundApprovalThreshold: number;
  reviewApprovalThreshold: number;
  /** Plausibility limits of a dossier's fee inputs (DOSSIER_MAX_*). */
  dossierLimits: DossierLimits;
  treasuryDay: TreasuryDaySettings;
  indicators: IndicatorSettings;
  /** Staff sign-in through the province's identity provider, when configured. */
  oidc?: OidcSettings;
  /** HinhThucThu per way a fee line is collected (dvcqg-sync). */
  collectionForms: Record<'direct' | 'online' | 'postal', number>;
  intentTtlMinutes: number;
  callbackToleranceSeconds: number;
  expiryUnknownGraceMinutes: number;
  jobsIntervalSeconds: number;
  webhooks: WebhookSettings;
  rateLimits: RateLimitSettings;
  inbox: { rejectedRetentionDays: number };
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
}

/** Requests per minute (0: no limit); `trustProxy`: the source address from X-Forwarded-For. */
export interface RateLimitSettings {
  writesPerMinute: number;
  failedAuthPerMinute: number;
  receiptLookupsPerMinute: number;
  badCallbacksPerMinute: number;
  trustProxy: boolean;
}

export class ConfigError extends Error {
  constructor(readonly issues: string[]) {
    super(`invalid configuration:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function parseConfig(env: Record<string, string | undefined>): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || 'environment'}: ${i.message}`));
  }
  const e = parsed.data;
  if (e.NODE_ENV === 'production' && e.SANDBOX_SECRETS?.length) {
    // The sandbox's "pay" button marks real obligations paid, with signed receipts, and no money.
    throw new ConfigError(['SANDBOX_SECRETS: the sandbox gateway cannot be enabled when NODE_ENV is production']);
  }
  const issues: string[] = [];
  const pair = (names: string[], values: unknown[], what = 'this gateway') => {
    const given = values.filter((v) => v !== undefined && !(Array.isArray(v) && v.length === 0)).length;
    if (given > 0 && given < values.length) {
      issues.push(
        `${names.join(', ')}: set all of them to enable ${what}, or none (missing: ${names.filter((_, i) => values[i] === undefined).join(', ')})`,
      );
      return false;
    }
    return given === values.length;
  };
  const vnpay = pair(['VNPAY_TMN_CODE', 'VNPAY_HASH_SECRET'], [e.VNPAY_TMN_CODE, e.VNPAY_HASH_SECRET]);
  const dvcqg = pair(
    ['DVCQG_PARTNER_CODE', 'DVCQG_HASH_KEY', 'DVCQG_INIT_URL'],
    [e.DVCQG_PARTNER_CODE, e.DVCQG_HASH_KEY, e.DVCQG_INIT_URL],
  );
  if (dvcqg && !['MaLoi', 'MaGiaoDich'].every((f) => e.DVCQG_CONFIRM_FIELDS.includes(f)) && !e.DVCQG_QUERY_URL) {
    // A confirm hash that leaves out the result code (older platform versions) makes a confirm
    // only a hint, checked by asking the platform. The default layout signs both.
    issues.push('DVCQG_QUERY_URL: required while DVCQG_CONFIRM_FIELDS does not cover MaLoi and MaGiaoDich (the default layout does)');
  }
  const oidc = pair(
    ['OIDC_ISSUER', 'OIDC_CLIENT_ID', 'OIDC_CLIENT_SECRET'],
    [e.OIDC_ISSUER, e.OIDC_CLIENT_ID, e.OIDC_CLIENT_SECRET],
    'the OpenID Connect sign-in',
  );
  if (
    oidc &&
    new URL(e.OIDC_ISSUER!).protocol === 'http:' &&
    !['localhost', '127.0.0.1', '[::1]'].includes(new URL(e.OIDC_ISSUER!).hostname)
  ) {
    // Discovery, keys and the token request would travel in clear: only an IdP on this machine may.
    issues.push('OIDC_ISSUER: must be https:// (plain http only for localhost)');
  }
  if (e.DATABASE_READ_URL && !e.DATABASE_URL)
    issues.push('DATABASE_READ_URL: a replica of the server named by DATABASE_URL, which is missing');
  if (issues.length > 0) throw new ConfigError(issues);
  const publicBaseUrl = (e.PUBLIC_BASE_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST ?? (e.DATABASE_URL ? '0.0.0.0' : '127.0.0.1'),
    database: e.DATABASE_URL
      ? {
          kind: 'server',
          url: e.DATABASE_URL,
          poolMax: e.DATABASE_POOL_MAX,
          prepare: e.DATABASE_PREPARE === 'true',
          connectTimeoutSeconds: e.DATABASE_CONNECT_TIMEOUT_SECONDS,
          readUrl: e.DATABASE_READ_URL,
        }
      : { kind: 'embedded', dataDir: `${e.DATA_DIR}/pglite` },
    dataDir: e.DATA_DIR,
    publicBaseUrl,
    auth: { secret: e.JWT_SECRET, jwksUrl: e.JWT_JWKS_URL, issuer: e.JWT_ISSUER, audience: e.JWT_AUDIENCE },
    session: { secret: e.SESSION_SECRET, ttlMinutes: e.SESSION_TTL_MINUTES },
    receiptSigningKey: e.RECEIPT_SIGNING_KEY,
    receipts: {
      formSymbol: e.RECEIPT_FORM_SYMBOL,
      seriesLetters: e.RECEIPT_SERIES_LETTERS,
      operator: { name: e.HUB_OPERATOR_NAME, address: e.HUB_OPERATOR_ADDRESS, taxCode: e.HUB_OPERATOR_TAX_CODE ?? null },
      agencyKeys: e.RECEIPT_AGENCY_KEYS ?? {},
      signingThreads: e.RECEIPT_SIGNING_THREADS,
    },
    sandbox: e.SANDBOX_SECRETS && e.SANDBOX_SECRETS.length > 0 ? { secrets: e.SANDBOX_SECRETS } : undefined,
    sandboxUrl: e.SANDBOX_URL?.replace(/\/+$/, '') ?? publicBaseUrl,
    sandboxPolling: e.SANDBOX_POLL,
    sandboxMaxAmount: e.SANDBOX_MAX_AMOUNT_VND,
    gateways: {
      vnpay: vnpay
        ? {
            tmnCode: e.VNPAY_TMN_CODE!,
            secrets: e.VNPAY_HASH_SECRET!,
            paymentUrl: e.VNPAY_PAYMENT_URL,
            apiUrl: e.VNPAY_API_URL,
            encoding: e.VNPAY_ENCODING,
            serverIp: e.VNPAY_SERVER_IP,
            polling: e.VNPAY_POLL,
          }
        : undefined,
      vietqr:
        e.VIETQR_NOTIFY_SECRET?.length || e.VIETQR_NOTIFY_API_KEY?.length
          ? {
              secrets: e.VIETQR_NOTIFY_SECRET ?? [],
              apiKeys: e.VIETQR_NOTIFY_API_KEY ?? [],
              signatureHeader: e.VIETQR_SIGNATURE_HEADER,
              format: e.VIETQR_NOTIFY_FORMAT,
              service: e.VIETQR_SERVICE,
              maxAmount: e.VIETQR_MAX_AMOUNT_VND,
            }
          : undefined,
      dvcqg: dvcqg
        ? {
            partnerCode: e.DVCQG_PARTNER_CODE!,
            secrets: e.DVCQG_HASH_KEY!,
            initUrl: e.DVCQG_INIT_URL!,
            queryUrl: e.DVCQG_QUERY_URL,
            version: e.DVCQG_VERSION,
            algorithm: e.DVCQG_HASH_ALGORITHM,
            initFields: e.DVCQG_INIT_FIELDS,
            confirmFields: e.DVCQG_CONFIRM_FIELDS,
            answerFields: e.DVCQG_ANSWER_FIELDS,
            redirectField: e.DVCQG_REDIRECT_FIELD,
            polling: e.DVCQG_POLL,
            maxAmount: e.DVCQG_MAX_AMOUNT_VND,
            receipt: { serviceCodeSuffix: e.DVCQG_SERVICE_CODE_SUFFIX, treasury: e.DVCQG_TREASURY },
          }
        : undefined,
      timeoutMs: e.GATEWAY_TIMEOUT_MS,
    },
    refundApprovalThreshold: e.REFUND_APPROVAL_THRESHOLD_VND,
    reviewApprovalThreshold: e.REVIEW_APPROVAL_THRESHOLD_VND,
    dossierLimits: {
      maxDeclaredValue: e.DOSSIER_MAX_DECLARED_VALUE_VND,
      maxQuantity: e.DOSSIER_MAX_QUANTITY,
      maxCopies: e.DOSSIER_MAX_COPIES,
      maxDaysAhead: e.DOSSIER_MAX_DAYS_AHEAD,
    },
    treasuryDay: {
      sources: {
        vnpay: { agencyCode: e.VNPAY_AGENCY_CODE, settlementAccount: e.VNPAY_SETTLEMENT_ACCOUNT },
        dvcqg: { agencyCode: e.DVCQG_AGENCY_CODE, settlementAccount: e.DVCQG_SETTLEMENT_ACCOUNT },
        sandbox: { agencyCode: e.SANDBOX_AGENCY_CODE, settlementAccount: e.SANDBOX_SETTLEMENT_ACCOUNT },
      },
      missingFlagDays: e.RECONCILIATION_MISSING_FLAG_DAYS,
      amountTimeWindowMinutes: e.RECONCILIATION_TIME_WINDOW_MINUTES,
      statementMaxBytes: e.STATEMENT_MAX_BYTES,
    },
    indicators: { scoring: e.INDICATOR_SCORING, integrationSource: e.INDICATOR_B_NUMERATOR },
    collectionForms: e.DVCQG_SYNC_COLLECTION_FORMS,
    oidc: oidc
      ? {
          issuer: e.OIDC_ISSUER!,
          clientId: e.OIDC_CLIENT_ID!,
          clientSecret: e.OIDC_CLIENT_SECRET!,
          redirectUri: e.OIDC_REDIRECT_URI ?? `${publicBaseUrl}/dashboard/oidc/callback`,
          scopes: e.OIDC_SCOPES.join(' '),
          roleClaim: e.OIDC_ROLE_CLAIM,
          roleMap: e.OIDC_ROLE_MAP,
          agenciesClaim: e.OIDC_AGENCIES_CLAIM,
          subjectClaim: e.OIDC_SUBJECT_CLAIM,
        }
      : undefined,
    intentTtlMinutes: e.INTENT_TTL_MINUTES,
    callbackToleranceSeconds: e.CALLBACK_TOLERANCE_SECONDS,
    expiryUnknownGraceMinutes: e.EXPIRY_UNKNOWN_GRACE_MINUTES,
    jobsIntervalSeconds: e.JOBS_INTERVAL_SECONDS,
    webhooks: {
      allowedHosts: e.WEBHOOK_ALLOWED_HOSTS.map((h) => h.toLowerCase()),
      allowLoopback: e.NODE_ENV !== 'production',
      retrySchedule: e.WEBHOOK_RETRY_SCHEDULE,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      concurrency: e.WEBHOOK_CONCURRENCY,
      endpointConcurrency: e.WEBHOOK_ENDPOINT_CONCURRENCY,
      pollMs: e.WEBHOOK_POLL_MS,
      retentionDays: e.EVENT_RETENTION_DAYS,
    },
    rateLimits: {
      writesPerMinute: e.RATE_LIMIT_WRITES_PER_MINUTE,
      failedAuthPerMinute: e.RATE_LIMIT_FAILED_AUTH_PER_MINUTE,
      receiptLookupsPerMinute: e.RATE_LIMIT_RECEIPT_LOOKUPS_PER_MINUTE,
      badCallbacksPerMinute: e.RATE_LIMIT_BAD_CALLBACKS_PER_MINUTE,
      trustProxy: e.TRUST_PROXY === 'true',
    },
    inbox: { rejectedRetentionDays: e.INBOX_REJECTED_RETENTION_DAYS },
    logLevel: e.LOG_LEVEL,
  };
}
