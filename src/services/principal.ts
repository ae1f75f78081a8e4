import { type AnyColumn, type SQL, sql } from 'drizzle-orm';

export const roles = ['portal', 'treasury', 'campaign', 'admin'] as const;
export type Role = (typeof roles)[number];

/** Who is calling, from a verified token. `agencies` are scope roots: each covers its subtree. */
export interface Principal {
  subject: string;
  role: Role;
  agencies: string[];
  /** Who vouched for it (the token's `iss`): two issuers may name different people alike. */
  issuer?: string;
}

/** How a principal is recorded as the author of a change. */
export const actorOf = (principal: Principal) => `${principal.role}:${principal.subject}`;

/** Agency codes are dotted identifiers (000.00.32.H19); nothing else may reach a path match. */
export const AGENCY_CODE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9.]{0,39}$/;

/**
 * What an agency's path must contain to be in the principal's scope: `/code/` for each of its
 * roots (any one will do), none at all for a principal without a valid root; null for an admin,
 * who sees everything. scopeCondition matches these; a prepared query takes them as a value.
 */
export function scopePathFragments(principal: Principal): string[] | null {
  if (principal.role === 'admin') return null;
  return principal.agencies.filter((code) => AGENCY_CODE_PATTERN.test(code)).map((code) => `/${code}/`);
}

/**
 * SQL condition "the agency in `agencyColumn` is inside the principal's scope", or undefined for
 * an admin. An agency's path lists every ancestor's code, so "inside the subtree of X" is
 * "path contains /X/", whatever X's own depth.
 */
export function scopeCondition(principal: Principal, agencyColumn: AnyColumn | SQL): SQL | undefined {
  const fragments = scopePathFragments(principal);
  if (fragments === null) return undefined;
  if (fragments.length === 0) return sql`false`;
  const matches = sql.join(
    fragments.map((fragment) => sql`strpos(scope_agency.path, ${fragment}) > 0`),
    sql` OR `,
  );
  return sql`EXISTS (SELECT 1 FROM agencies scope_agency WHERE scope_agency.code = ${agencyColumn} AND (${matches}))`;
}

/**
 * The same, for a row that belongs to a dossier (intents, receipts): scope follows the dossier's
 * agency as it is now, so it can never disagree with the dossier's own scope.
 */
export function dossierScopeCondition(principal: Principal, dossierCodeColumn: AnyColumn | SQL): SQL | undefined {
  return scopeCondition(
    principal,
    sql`(SELECT scope_dossier.agency_code FROM dossiers scope_dossier WHERE scope_dossier.code = ${dossierCodeColumn})`,
  );
}
