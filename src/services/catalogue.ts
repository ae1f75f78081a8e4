import { and, asc, eq, inArray } from 'drizzle-orm';
import type { AgencyLevel } from '../db/schema/agencies.ts';
import { agencies, feeRules, procedures } from '../db/schema/index.ts';
import { budgetClassificationErrors, normalisePercent } from '../domain/budget.ts';
import { vnDate } from '../domain/dates.ts';
import { canCharge, type FeeAdjustment, type FeeFormula, isFeeBearing, type RoundingRule } from '../domain/fees.ts';
import { appendAudit } from './audit.ts';
import { executor, type ServiceContext, withTransaction } from './context.ts';
import { notFound, ServiceError } from './errors.ts';
import { AGENCY_CODE_PATTERN, type Principal, scopeCondition } from './principal.ts';

type AgencyRow = typeof agencies.$inferSelect;
type ProcedureRow = typeof procedures.$inferSelect;
type FeeRuleRow = typeof feeRules.$inferSelect;

function agencyView(a: AgencyRow) {
  return {
    code: a.code,
    name: a.name,
    level: a.level,
    parentCode: a.parentCode,
    depth: a.depth,
    validFrom: a.validFrom,
    validTo: a.validTo,
    mergedInto: a.mergedInto,
    issuesCounterReceipts: a.issuesCounterReceipts,
    address: a.address,
    taxCode: a.taxCode,
    receiptFormSymbol: a.receiptFormSymbol,
    receiptSeriesSymbol: a.receiptSeriesSymbol,
    receiptDelegation: a.receiptDelegation,
  };
}

/** What an admin maintains of an agency: its counter's receipts, and what its receipts print (Decree 254/2026 Art. 23). */
export interface AgencySettings {
  issuesCounterReceipts?: boolean;
  address?: string | null;
  taxCode?: string | null;
  receiptFormSymbol?: string | null;
  receiptSeriesSymbol?: string | null;
  receiptDelegation?: string | null;
}

/** An admin sets an agency's own settings (whether its counter payments get the hub's e-receipt). */
export async function updateAgencySettings(ctx: ServiceContext, principal: Principal, code: string, input: AgencySettings) {
  return withTransaction(ctx, async (ctx) => {
    const db = executor(ctx);
    const [before] = await db.select().from(agencies).where(eq(agencies.code, code)).for('update');
    if (!before) throw notFound(`agency ${code}`);
    const [row] = await db
      .update(agencies)
      .set({ ...input, updatedAt: ctx.now() })
      .where(eq(agencies.code, code))
      .returning();
    const changed = Object.keys(input) as Array<keyof AgencySettings>;
    await appendAudit(ctx, principal, {
      action: 'agency.settings',
      resourceType: 'agency',
      resourceId: code,
      agencyCode: code,
      before: Object.fromEntries(changed.map((k) => [k, before[k]])),
      after: Object.fromEntries(changed.map((k) => [k, row![k]])),
    });
    return agencyView(row!);
  });
}

/** The agencies of the caller's scope (every agency for an admin), parents before children. */
export async function listAgencies(ctx: ServiceContext, principal: Principal) {
  const scope = scopeCondition(principal, agencies.code);
  const rows = await executor(ctx).select().from(agencies).where(scope).orderBy(asc(agencies.depth), asc(agencies.code));
  return rows.map(agencyView);
}

export interface FeeRuleInput {
  kind: 'phi' | 'le_phi';
  feeCode: string;
  name: string;
  lineNo: number;
  formula: FeeFormula;
  adjustments: FeeAdjustment[];
  rounding: RoundingRule;
  validFrom: string;
  validTo: string | null;
  legalBasis: string;
  collectionAccount: string | null;
  /** Budget classification (domain/budget.ts); absent: not yet classified. */
  budgetChapter?: string | null;
  budgetSubItem?: string | null;
  budgetAccount?: string | null;
  /** Decimal string, at most 2 decimals (numeric(5,2)); only a phí keeps a share. */
  retainedPercent?: string | null;
  budgetCodesDemo?: boolean;
  setByProvince: boolean;
}

function feeRuleView(r: FeeRuleRow) {
  return {
    id: r.id,
    kind: r.kind,
    feeCode: r.feeCode,
    name: r.name,
    lineNo: r.lineNo,
    formula: r.formula,
    adjustments: r.adjustments,
    rounding: r.rounding,
    validFrom: r.validFrom,
    validTo: r.validTo,
    legalBasis: r.legalBasis,
    collectionAccount: r.collectionAccount,
    budgetChapter: r.budgetChapter,
    budgetSubItem: r.budgetSubItem,
    budgetAccount: r.budgetAccount,
    retainedPercent: r.retainedPercent === null ? null : normalisePercent(r.retainedPercent),
    budgetCodesDemo: r.budgetCodesDemo,
    setByProvince: r.setByProvince,
  };
}

/** `today`: the Vietnamese date whose rules in force decide whether the procedure is fee-bearing. */
function procedureView(p: ProcedureRow, rules: FeeRuleRow[], today: string) {
  return {
    code: p.code,
    ...procedureRecord(p),
    /**
     * Fee-bearing (766 "fee information"): a rule in force today can ask for a non-zero amount,
     * by its base formula or by an adjustment (death registration is free on time, charged late).
     */
    feeBearing: isFeeBearing(rules, today),
    feeRules: rules.map(feeRuleView),
  };
}

async function rulesFor(ctx: ServiceContext, codes: string[]) {
  if (codes.length === 0) return new Map<string, FeeRuleRow[]>();
  const rows = await executor(ctx)
    .select()
    .from(feeRules)
    .where(inArray(feeRules.procedureCode, codes))
    .orderBy(asc(feeRules.procedureCode), asc(feeRules.lineNo), asc(feeRules.validFrom));
  const byProcedure = new Map<string, FeeRuleRow[]>();
  for (const r of rows) byProcedure.set(r.procedureCode, [...(byProcedure.get(r.procedureCode) ?? []), r]);
  return byProcedure;
}

/** The catalogue is the province's, not a unit's: every role reads all of it. */
export async function listProcedures(ctx: ServiceContext, filter: { field?: string } = {}) {
  const rows = await executor(ctx)
    .select()
    .from(procedures)
    .where(filter.field ? eq(procedures.field, filter.field) : undefined)
    .orderBy(asc(procedures.code));
  const rules = await rulesFor(
    ctx,
    rows.map((p) => p.code),
  );
  const today = vnDate(ctx.now());
  return rows.map((p) => procedureView(p, rules.get(p.code) ?? [], today));
}

export async function getProcedure(ctx: ServiceContext, code: string) {
  const [row] = await executor(ctx).select().from(procedures).where(eq(procedures.code, code));
  if (!row) throw notFound(`procedure ${code}`);
  return procedureView(row, (await rulesFor(ctx, [code])).get(code) ?? [], vnDate(ctx.now()));
}

export interface ProcedureInput {
  name: string;
  field: string;
  level: string;
  /**
   * Who receives it: agencies of these levels, and these agencies with their units (766
   * indicator b asks a unit only about what it can receive). Absent on an update: unchanged;
   * both empty: every unit.
   */
  receivingLevels?: AgencyLevel[];
  receivingUnits?: string[];
  integratedOnlinePayment: boolean;
  dataConfidence: 'confirmed' | 'secondary' | 'unconfirmed';
  note: string | null;
}

/** The procedure's own fields as stored and audited. */
export function procedureRecord(p: ProcedureRow) {
  return {
    name: p.name,
    field: p.field,
    level: p.level,
    receivingLevels: p.receivingLevels,
    receivingUnits: p.receivingUnits,
    integratedOnlinePayment: p.integratedOnlinePayment,
    dataConfidence: p.dataConfidence,
    note: p.note,
  };
}

/** The receiving units named that are not in the agency tree. */
export async function unknownAgencies(ctx: ServiceContext, codes: readonly string[]): Promise<string[]> {
  if (codes.length === 0) return [];
  const known = await executor(ctx)
    .select({ code: agencies.code })
    .from(agencies)
    .where(inArray(agencies.code, [...codes]));
  const found = new Set(known.map((a) => a.code));
  return [...new Set(codes)].filter((c) => !found.has(c));
}

/**
 * Creates or updates a procedure (admin). Fee rules are managed one by one below. With a
 * principal (an admin's request), the change is audited in the same transaction.
 */
export async function putProcedure(ctx: ServiceContext, code: string, input: ProcedureInput, principal?: Principal) {
  return withTransaction(ctx, async (ctx) => {
    const now = ctx.now();
    const db = executor(ctx);
    const missing = await unknownAgencies(ctx, input.receivingUnits ?? []);
    if (missing.length > 0) {
      throw new ServiceError('unknown-agency', `receiving units not in the agency tree: ${missing.join(', ')}`, [
        { path: 'receivingUnits', message: `unknown agency ${missing[0]}` },
      ]);
    }
    const [existing] = await db.select().from(procedures).where(eq(procedures.code, code)).for('update');
    const values = {
      ...input,
      receivingLevels: [...new Set(input.receivingLevels ?? existing?.receivingLevels ?? [])],
      receivingUnits: [...new Set(input.receivingUnits ?? existing?.receivingUnits ?? [])],
    };
    const [row] = await db
      .insert(procedures)
      .values({ code, ...values, createdAt: now, updatedAt: now })
      .onConflictDoUpdate({ target: procedures.code, set: { ...values, updatedAt: now } })
      .returning();
    if (principal) {
      await appendAudit(ctx, principal, {
        action: existing ? 'procedure.update' : 'procedure.create',
        resourceType: 'procedure',
        resourceId: code,
        agencyCode: null,
        before: existing ? procedureRecord(existing) : null,
        after: procedureRecord(row!),
      });
    }
    return { procedure: await getProcedure(ctx, code), created: !existing };
  });
}

/** Checks a rule and gives its values as stored (the retained share with its two decimals). */
export function checkRule(input: FeeRuleInput): FeeRuleInput {
  if (input.validTo !== null && input.validTo < input.validFrom) {
    throw new ServiceError('validation-failed', 'validTo is before validFrom', [{ path: 'validTo', message: 'before validFrom' }]);
  }
  const budget = {
    kind: input.kind,
    budgetChapter: input.budgetChapter ?? null,
    budgetSubItem: input.budgetSubItem ?? null,
    budgetAccount: input.budgetAccount ?? null,
    retainedPercent: input.retainedPercent ?? null,
  };
  const errors = budgetClassificationErrors(budget);
  if (errors.length > 0) throw new ServiceError('validation-failed', 'the budget classification is not valid', errors);
  return {
    ...input,
    ...budget,
    // A lệ phí goes wholly to the budget: its share is recorded as 0, whatever was sent (null or 0).
    retainedPercent: input.kind === 'le_phi' ? (budget.retainedPercent === null ? null : '0.00') : normalisePercent(budget.retainedPercent),
    budgetCodesDemo: input.budgetCodesDemo ?? false,
  };
}

/** A rule as audited: its fields without the row's id and timestamps. */
export function feeRuleRecord(r: FeeRuleRow) {
  const { id: _id, ...rule } = feeRuleView(r);
  return { procedureCode: r.procedureCode, ...rule };
}

/**
 * Adds a fee rule. Rules are never deleted: obligations and receipts refer to them, and the law
 * retires a rate by ending its validity, which is what an update of `validTo` does. With a
 * principal (an admin's request), audited.
 */
export async function addFeeRule(ctx: ServiceContext, procedureCode: string, given: FeeRuleInput, principal?: Principal) {
  const input = checkRule(given);
  return withTransaction(ctx, async (ctx) => {
    const [procedure] = await executor(ctx).select({ code: procedures.code }).from(procedures).where(eq(procedures.code, procedureCode));
    if (!procedure) throw notFound(`procedure ${procedureCode}`);
    const now = ctx.now();
    const [row] = await executor(ctx)
      .insert(feeRules)
      .values({ id: crypto.randomUUID(), procedureCode, ...input, canCharge: canCharge(input), createdAt: now, updatedAt: now })
      .returning();
    if (principal) {
      await appendAudit(ctx, principal, {
        action: 'fee_rule.create',
        resourceType: 'fee_rule',
        resourceId: row!.id,
        agencyCode: null,
        after: feeRuleRecord(row!),
      });
    }
    return feeRuleView(row!);
  });
}

export async function updateFeeRule(ctx: ServiceContext, procedureCode: string, id: string, given: FeeRuleInput, principal?: Principal) {
  const input = checkRule(given);
  return withTransaction(ctx, async (ctx) => {
    const db = executor(ctx);
    const where = and(eq(feeRules.id, id), eq(feeRules.procedureCode, procedureCode));
    const [before] = await db.select().from(feeRules).where(where).for('update');
    if (!before) throw notFound(`fee rule ${id} of procedure ${procedureCode}`);
    const [row] = await db
      .update(feeRules)
      .set({ ...input, canCharge: canCharge(input), updatedAt: ctx.now() })
      .where(where)
      .returning();
    if (principal) {
      await appendAudit(ctx, principal, {
        action: 'fee_rule.replace',
        resourceType: 'fee_rule',
        resourceId: id,
        agencyCode: null,
        before: feeRuleRecord(before),
        after: feeRuleRecord(row!),
      });
    }
    return feeRuleView(row!);
  });
}

export interface AgencyInput {
  code: string;
  name: string;
  level: AgencyRow['level'];
  parentCode: string | null;
  validFrom?: string | null;
  validTo?: string | null;
  mergedInto?: string | null;
  bankBin?: string | null;
  accountNumber?: string | null;
  accountName?: string | null;
  receiptFormSymbol?: string | null;
  receiptSeriesSymbol?: string | null;
  issuesCounterReceipts?: boolean;
  address?: string | null;
  taxCode?: string | null;
  receiptDelegation?: string | null;
}

/**
 * Creates or updates an agency under its parent; its path is the parent's path plus its code.
 * Moving an agency under another parent is refused: descendants' paths would go stale.
 */
export async function upsertAgency(ctx: ServiceContext, input: AgencyInput) {
  if (!AGENCY_CODE_PATTERN.test(input.code)) {
    throw new ServiceError('validation-failed', `invalid agency code ${input.code}`, [{ path: 'code', message: 'invalid' }]);
  }
  return withTransaction(ctx, async (ctx) => {
    const db = executor(ctx);
    let path = `/${input.code}/`;
    let depth = 0;
    if (input.parentCode) {
      const [parent] = await db.select().from(agencies).where(eq(agencies.code, input.parentCode));
      if (!parent) throw new ServiceError('unknown-agency', `parent agency ${input.parentCode} does not exist`);
      path = `${parent.path}${input.code}/`;
      depth = parent.depth + 1;
    }
    const [existing] = await db.select().from(agencies).where(eq(agencies.code, input.code));
    if (existing && existing.path !== path) {
      throw new ServiceError('conflict', `agency ${input.code} already sits under another parent`);
    }
    const now = ctx.now();
    const values = { ...input, path, depth, updatedAt: now };
    const [row] = await db
      .insert(agencies)
      .values({ ...values, createdAt: now })
      .onConflictDoUpdate({ target: agencies.code, set: values })
      .returning();
    return row!;
  });
}
