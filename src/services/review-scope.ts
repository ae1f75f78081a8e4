import { type SQL, sql } from 'drizzle-orm';
import { paymentReviews } from '../db/schema/index.ts';
import { type Principal, scopeCondition } from './principal.ts';

/**
 * "This review is inside the principal's scope", or undefined for an admin. A review of an intent
 * belongs to the intent's dossier's agency as it is now (intents carry no agency); one without an
 * intent to the agency stored on it (the collecting account's owner, else the province root).
 */
export function reviewScopeCondition(principal: Principal): SQL | undefined {
  return scopeCondition(
    principal,
    sql`coalesce((SELECT scope_dossier.agency_code FROM payment_intents scope_intent
                  JOIN dossiers scope_dossier ON scope_dossier.code = scope_intent.dossier_code
                  WHERE scope_intent.id = ${paymentReviews.intentId}), ${paymentReviews.agencyCode})`,
  );
}
