import { sql } from 'drizzle-orm';
import { queryRows } from '../db/types.ts';
import { addDays, vnDayStart } from '../domain/dates.ts';
import { type GatewayId, gatewayIds } from '../gateways/types.ts';
import { executor, type ServiceContext } from './context.ts';
import { ServiceError } from './errors.ts';

/**
 * Where a statement comes from (issue 11): a gateway's own settlement file (`vnpay`, `dvcqg`,
 * `sandbox`, each named by its id) or a collecting bank account's statement (`bank:<account>`,
 * the account as the agency's configuration holds it, spaces, dots and dashes ignored). VietQR
 * money arrives as bank credits, so its statements are the accounts' own.
 */
export type StatementSource =
  | { id: string; kind: 'gateway'; gateway: Exclude<GatewayId, 'vietqr'> }
  | { id: string; kind: 'bank'; accountNumber: string };

const normaliseAccount = (account: string) => account.replace(/[\s.-]/g, '');

export function parseSource(raw: string): StatementSource | null {
  const text = raw.trim();
  if (text.startsWith('bank:')) {
    const accountNumber = normaliseAccount(text.slice('bank:'.length));
    return /^[0-9A-Za-z]{4,40}$/.test(accountNumber) ? { id: `bank:${accountNumber}`, kind: 'bank', accountNumber } : null;
  }
  const gateway = gatewayIds.find((id) => id === text && id !== 'vietqr');
  return gateway && gateway !== 'vietqr' ? { id: gateway, kind: 'gateway', gateway } : null;
}

/** The source, or a 422 naming the field. */
export function requireSource(raw: string, field = 'source'): StatementSource {
  const source = parseSource(raw);
  if (!source) {
    throw new ServiceError('unknown-source', `"${raw}" is not a statement source`, [
      { path: field, message: 'a gateway id (vnpay, dvcqg, sandbox) or bank:<account number>' },
    ]);
  }
  return source;
}

/**
 * The answer for a source the caller may not use. A bank account no agency holds and one held by
 * an agency outside the caller's scope get the same 422, so that nobody can tell which account
 * numbers belong to some agency by asking; a gateway source (public knowledge) is not found.
 */
export function sourceOutsideScope(source: StatementSource): ServiceError {
  if (source.kind !== 'bank') return new ServiceError('not-found', `source ${source.id} was not found`);
  return new ServiceError('unknown-source', 'no agency of your scope collects into this account', [
    { path: 'source', message: 'not a collecting account of an agency of your scope' },
  ]);
}

/**
 * The agency a source's statements belong to: the agency holding the collecting bank account, or
 * the one whose configuration holds the gateway's merchant account (absent: the province root).
 * A bank account no agency holds is not a source (422).
 */
export async function sourceOwner(ctx: ServiceContext, source: StatementSource): Promise<string> {
  const db = executor(ctx);
  if (source.kind === 'bank') {
    const rows = await queryRows<{ code: string }>(
      db,
      sql`SELECT code FROM agencies WHERE account_number IS NOT NULL
            AND regexp_replace(account_number, '[\\s.-]', '', 'g') = ${source.accountNumber}
          ORDER BY depth, code LIMIT 1`,
    );
    const code = rows[0]?.code;
    if (!code) throw sourceOutsideScope(source);
    return code;
  }
  const configured = ctx.settings.treasuryDay.sources[source.gateway]?.agencyCode;
  if (configured) return configured;
  const rows = await queryRows<{ code: string }>(db, sql`SELECT code FROM agencies WHERE parent_code IS NULL ORDER BY code LIMIT 1`);
  if (!rows[0]) throw new ServiceError('unknown-source', 'no agency is configured yet');
  return rows[0].code;
}

/** The bank account a gateway settles into (configuration), for the three-way view. */
export function settlementAccountOf(ctx: ServiceContext, gateway: Exclude<GatewayId, 'vietqr'>): string | undefined {
  const account = ctx.settings.treasuryDay.sources[gateway]?.settlementAccount;
  return account ? normaliseAccount(account) : undefined;
}

/** The business day [start, end) in Asia/Ho_Chi_Minh, as instants. */
export function businessDayBounds(date: string): { start: Date; end: Date } {
  return { start: vnDayStart(date), end: vnDayStart(addDays(date, 1)) };
}
