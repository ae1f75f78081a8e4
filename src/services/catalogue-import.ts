/**
 * The catalogue import (`POST /v1/catalogue/imports`): procedures and their fee rules from a CSV
 * or XLSX file (catalogue-file.ts reads it), one row per fee rule, a procedure's own columns given
 * on any of its rows (or on a row of its own, without a fee code). A dry run says what would
 * change, row by row, and writes nothing; applying is all or nothing, in one transaction, every
 * change audited.
 *
 * A rule is never overwritten (domain/procedures.md: old dossiers keep their old fee): a row for
 * a rule that exists — same procedure, fee code and `validFrom` — may change what does not price
 * a dossier (name, legal basis, budget codes…) or close it (`validTo`); new amounts are a new rule
 * with its own `validFrom`, and the rule in force before it is closed the day before. Two rules
 * of one fee code are never in force on the same day.
 */

import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { feeRules, procedures } from '../db/schema/index.ts';
import { canonicalJson } from '../domain/canonical-json.ts';
import { addDays } from '../domain/dates.ts';
import { canCharge } from '../domain/fees.ts';
import { type AuditEntry, appendAudit } from './audit.ts';
import { type FeeRuleInput, feeRuleRecord, procedureRecord, unknownAgencies } from './catalogue.ts';
import {
  type CatalogueFile,
  columnOf,
  csvRows,
  type ImportRowError,
  type ParsedFile,
  parseRows,
  RowErrors,
  readAll,
  xlsxRows,
} from './catalogue-file.ts';
import { executor, type ServiceContext, withTransaction } from './context.ts';
import { ServiceError } from './errors.ts';
import type { Principal } from './principal.ts';

/** Distinct from the hub's other advisory locks: one catalogue import applies at a time. */
const CATALOGUE_IMPORT_LOCK = 766_0020;

interface ImportChange {
  /** The first row that asks for it (a rule closed by its successor: the successor's row). */
  row: number;
  resource: 'procedure' | 'fee_rule';
  action: 'created' | 'updated' | 'closed';
  procedureCode: string;
  feeCode?: string;
  validFrom?: string;
  /** The rule's id (null: a rule the dry run would create). */
  id?: string | null;
  /** The fields that change, with their values before and after. */
  fields: string[];
  before: Record<string, unknown> | null;
  after: Record<string, unknown>;
}

export interface ImportReport {
  dryRun: boolean;
  applied: boolean;
  file: { name: string | null; format: 'csv' | 'xlsx'; sha256: string; rows: number };
  summary: {
    procedures: { created: number; updated: number; unchanged: number };
    feeRules: { created: number; updated: number; closed: number; unchanged: number };
  };
  changes: ImportChange[];
  errors: ImportRowError[];
}

// ── The plan ────────────────────────────────────────────────────────────────────────────

type ProcedureRow = typeof procedures.$inferSelect;
type FeeRuleRow = typeof feeRules.$inferSelect;

/** What prices a dossier: never changed on a rule that exists. */
const PRICING = ['kind', 'formula', 'adjustments', 'rounding'] as const;
/** What may change on a rule that exists (validTo closes it). */
const DESCRIPTIVE = [
  'name',
  'lineNo',
  'legalBasis',
  'collectionAccount',
  'budgetChapter',
  'budgetSubItem',
  'budgetAccount',
  'retainedPercent',
  'budgetCodesDemo',
  'setByProvince',
  'validTo',
] as const;

/** The same JSON value (key order aside, as jsonb gives it back). */
function same(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

const pick = <T extends object, K extends keyof T>(o: T, keys: readonly K[]) =>
  Object.fromEntries(keys.map((k) => [k, o[k]])) as Pick<T, K>;

/** A rule as the plan holds it: from the database (with its id) or from a row (new). */
interface PlannedRule {
  id: string | null;
  row: number | null;
  procedureCode: string;
  rule: FeeRuleInput;
  before: FeeRuleInput | null;
  action: 'created' | 'updated' | 'closed' | null;
}

function ruleInputOf(r: FeeRuleRow): FeeRuleInput {
  const { procedureCode: _p, ...rule } = feeRuleRecord(r);
  return rule;
}

interface Plan {
  procedures: Array<{
    row: number;
    code: string;
    before: ProcedureRow | null;
    after: ReturnType<typeof procedureRecord>;
    fields: string[];
  }>;
  unchangedProcedures: number;
  rules: PlannedRule[];
  unchangedRules: number;
}

async function plan(ctx: ServiceContext, parsed: ParsedFile, errors: RowErrors, lock: boolean): Promise<Plan> {
  const db = executor(ctx);
  const codes = [...parsed.procedures.keys()];
  const existing = new Map<string, ProcedureRow>();
  const stored: FeeRuleRow[] = [];
  if (codes.length > 0) {
    const rows = lock
      ? await db.select().from(procedures).where(inArray(procedures.code, codes)).orderBy(asc(procedures.code)).for('update')
      : await db.select().from(procedures).where(inArray(procedures.code, codes));
    for (const p of rows) existing.set(p.code, p);
    const ruleQuery = db.select().from(feeRules).where(inArray(feeRules.procedureCode, codes)).orderBy(asc(feeRules.id));
    stored.push(...(lock ? await ruleQuery.for('update') : await ruleQuery));
  }

  // Receiving units must be agencies of the tree.
  const named = [...parsed.procedures.values()].flatMap((p) => p.cells.receivingUnits ?? []);
  const unknown = new Set(await unknownAgencies(ctx, named));
  for (const { row, cells } of parsed.procedures.values()) {
    const missing = (cells.receivingUnits ?? []).filter((u) => unknown.has(u));
    if (missing.length > 0) errors.add(row, 'receivingUnits', `not in the agency tree: ${missing.join(', ')}`);
  }

  const result: Plan = { procedures: [], unchangedProcedures: 0, rules: [], unchangedRules: 0 };
  for (const [code, { row, cells }] of parsed.procedures) {
    const before = existing.get(code) ?? null;
    if (!before) {
      const missing = (['name', 'field', 'level'] as const).filter((k) => cells[k] === undefined);
      for (const k of missing) errors.add(row, columnOf(k), `required for the new procedure ${code}`);
      if (missing.length > 0) continue;
    }
    const after = {
      name: cells.name ?? before?.name ?? '',
      field: cells.field ?? before?.field ?? '',
      level: cells.level ?? before?.level ?? '',
      receivingLevels: cells.receivingLevels ?? before?.receivingLevels ?? [],
      receivingUnits: cells.receivingUnits ?? before?.receivingUnits ?? [],
      integratedOnlinePayment: cells.integratedOnlinePayment ?? before?.integratedOnlinePayment ?? false,
      dataConfidence: cells.dataConfidence ?? before?.dataConfidence ?? 'confirmed',
      note: cells.note === undefined ? (before?.note ?? null) : cells.note,
    };
    const fields = before
      ? (Object.keys(after) as Array<keyof typeof after>).filter((k) => !same(after[k], procedureRecord(before)[k]))
      : Object.keys(after);
    if (before && fields.length === 0) result.unchangedProcedures++;
    else result.procedures.push({ row, code, before, after, fields });
  }

  // Rules: the stored ones of the file's procedures, then the file's rows over them.
  const key = (procedureCode: string, feeCode: string, validFrom: string) => `${procedureCode}|${feeCode}|${validFrom}`;
  const planned = new Map<string, PlannedRule>();
  for (const r of stored) {
    const rule = ruleInputOf(r);
    planned.set(key(r.procedureCode, r.feeCode, r.validFrom), {
      id: r.id,
      row: null,
      procedureCode: r.procedureCode,
      rule,
      before: rule,
      action: null,
    });
  }
  const fromFile = new Set<string>();
  for (const { row, procedureCode, rule } of parsed.rules) {
    const k = key(procedureCode, rule.feeCode, rule.validFrom);
    if (fromFile.has(k)) {
      errors.add(row, 'validFrom', `the rule ${rule.feeCode} from ${rule.validFrom} of ${procedureCode} is given twice`);
      continue;
    }
    fromFile.add(k);
    const current = planned.get(k);
    if (!current) {
      planned.set(k, { id: null, row, procedureCode, rule, before: null, action: 'created' });
      continue;
    }
    const repriced = PRICING.filter((f) => !same(rule[f], current.rule[f]));
    if (repriced.length > 0) {
      errors.add(
        row,
        repriced[0]!,
        `the rule ${rule.feeCode} in force from ${rule.validFrom} is never overwritten (${repriced.join(', ')} differ): give the new amounts their own validFrom, and the rule before is closed the day before`,
      );
      continue;
    }
    const changed = DESCRIPTIVE.filter((f) => !same(rule[f], current.rule[f]));
    current.row = row;
    current.rule = rule;
    if (changed.length > 0) current.action = changed.includes('validTo') && rule.validTo !== null ? 'closed' : 'updated';
  }

  // A new rule closes the one of its fee code in force before it, the day before it starts —
  // unless the file gives that one an end of its own, which must then come before — and then no
  // two are in force on the same day.
  const byFee = new Map<string, PlannedRule[]>();
  for (const p of planned.values()) {
    const fee = `${p.procedureCode}|${p.rule.feeCode}`;
    byFee.set(fee, [...(byFee.get(fee) ?? []), p]);
  }
  for (const versions of byFee.values()) {
    versions.sort((a, b) => (a.rule.validFrom < b.rule.validFrom ? -1 : 1));
    for (let i = 1; i < versions.length; i++) {
      const [earlier, later] = [versions[i - 1]!, versions[i]!];
      const overlaps = earlier.rule.validTo === null || earlier.rule.validTo >= later.rule.validFrom;
      if (!overlaps) continue;
      const closable = later.action === 'created' && (earlier.row === null || earlier.rule.validTo === null);
      if (closable) {
        earlier.rule = { ...earlier.rule, validTo: addDays(later.rule.validFrom, -1) };
        // A rule new in this file is created with its end; a stored one is closed.
        if (earlier.id !== null) earlier.action = 'closed';
        earlier.row ??= later.row;
        continue;
      }
      if (earlier.row === null && later.row === null) continue; // as stored: not this file's doing
      errors.add(
        later.row ?? earlier.row,
        'validFrom',
        `the rules ${later.rule.feeCode} of ${later.procedureCode} from ${earlier.rule.validFrom} and from ${later.rule.validFrom} would both be in force on ${later.rule.validFrom}: close the earlier one (validTo) before it`,
      );
    }
  }

  for (const p of planned.values()) {
    if (p.action === null) {
      if (p.row !== null) result.unchangedRules++;
      continue;
    }
    result.rules.push(p);
  }
  result.rules.sort((a, b) => (a.row ?? 0) - (b.row ?? 0));
  return result;
}

function changesOf(p: Plan): ImportChange[] {
  const changes: ImportChange[] = p.procedures.map((c) => ({
    row: c.row,
    resource: 'procedure',
    action: c.before ? 'updated' : 'created',
    procedureCode: c.code,
    fields: c.fields,
    before: c.before ? pick(procedureRecord(c.before), c.fields as Array<keyof ReturnType<typeof procedureRecord>>) : null,
    after: c.before ? pick(c.after, c.fields as Array<keyof typeof c.after>) : c.after,
  }));
  for (const r of p.rules) {
    const fields = r.before
      ? (Object.keys(r.rule) as Array<keyof FeeRuleInput>).filter((k) => !same(r.rule[k], r.before![k]))
      : (Object.keys(r.rule) as Array<keyof FeeRuleInput>);
    changes.push({
      row: r.row!,
      resource: 'fee_rule',
      action: r.action!,
      procedureCode: r.procedureCode,
      feeCode: r.rule.feeCode,
      validFrom: r.rule.validFrom,
      id: r.id,
      fields,
      before: r.before ? pick(r.before, fields) : null,
      after: r.before ? pick(r.rule, fields) : { ...r.rule },
    });
  }
  return changes.sort((a, b) => a.row - b.row || (a.resource === b.resource ? 0 : a.resource === 'procedure' ? -1 : 1));
}

// ── Import ──────────────────────────────────────────────────────────────────────────────

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new Uint8Array(bytes));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * Reads the file, plans every change and, unless `dryRun`, applies them in one transaction with
 * an audit row each (and one for the import). A file with any error changes nothing: a dry run
 * lists the errors with the changes; an import answers them as a problem (400).
 */
export async function importCatalogue(
  ctx: ServiceContext,
  principal: Principal,
  file: CatalogueFile,
  options: { dryRun: boolean },
): Promise<ImportReport> {
  const bytes = await readAll(file.body);
  const rows = file.format === 'csv' ? csvRows(bytes) : await xlsxRows(ctx, bytes);
  const sha256 = await sha256Hex(bytes);
  const errors = new RowErrors();
  const parsed = parseRows(rows, errors);

  return withTransaction(ctx, async (ctx) => {
    const db = executor(ctx);
    if (!options.dryRun) await db.execute(sql`SELECT pg_advisory_xact_lock(${CATALOGUE_IMPORT_LOCK})`);
    const planned = errors.list.length > 0 && parsed.procedures.size === 0 ? null : await plan(ctx, parsed, errors, !options.dryRun);
    const changes = planned ? changesOf(planned) : [];
    const count = (resource: ImportChange['resource'], action: ImportChange['action']) =>
      changes.filter((c) => c.resource === resource && c.action === action).length;
    const report: ImportReport = {
      dryRun: options.dryRun,
      applied: false,
      file: { name: file.name ?? null, format: file.format, sha256, rows: parsed.rows },
      summary: {
        procedures: {
          created: count('procedure', 'created'),
          updated: count('procedure', 'updated'),
          unchanged: planned?.unchangedProcedures ?? 0,
        },
        feeRules: {
          created: count('fee_rule', 'created'),
          updated: count('fee_rule', 'updated'),
          closed: count('fee_rule', 'closed'),
          unchanged: planned?.unchangedRules ?? 0,
        },
      },
      changes,
      errors: errors.list.sort((a, b) => (a.row ?? 0) - (b.row ?? 0)),
    };
    if (options.dryRun) return report;
    if (report.errors.length > 0 || !planned) {
      throw new ServiceError(
        'validation-failed',
        `the catalogue file has ${report.errors.length} error(s); nothing was changed`,
        report.errors.slice(0, 100).map((e) => ({
          path: e.row === null ? 'file' : `row ${e.row}${e.column ? `.${e.column}` : ''}`,
          message: e.message,
        })),
        { rowErrors: report.errors },
      );
    }
    await apply(ctx, principal, planned, report);
    return { ...report, applied: true, changes: changesOf(planned) };
  });
}

/**
 * Makes the planned changes, then writes their audit rows: the audit chain's lock is the last a
 * writer takes (services/audit.ts), so every row this import writes is locked or new before it.
 */
async function apply(ctx: ServiceContext, principal: Principal, planned: Plan, report: ImportReport): Promise<void> {
  const db = executor(ctx);
  const now = ctx.now();
  const reason = `catalogue import${report.file.name ? ` ${report.file.name}` : ''} (sha256 ${report.file.sha256})`;
  const audits: AuditEntry[] = [];
  // Procedures first: a new rule's procedure exists before the rule.
  for (const p of planned.procedures) {
    if (p.before) {
      await db
        .update(procedures)
        .set({ ...p.after, updatedAt: now })
        .where(eq(procedures.code, p.code));
    } else {
      const inserted = await db
        .insert(procedures)
        .values({ code: p.code, ...p.after, createdAt: now, updatedAt: now })
        .onConflictDoNothing({ target: procedures.code })
        .returning({ code: procedures.code });
      if (inserted.length === 0)
        throw new ServiceError('concurrent-update', `procedure ${p.code} was created meanwhile; import the file again`);
    }
    audits.push({
      action: p.before ? 'procedure.update' : 'procedure.create',
      resourceType: 'procedure',
      resourceId: p.code,
      agencyCode: null,
      reason,
      before: p.before ? pick(procedureRecord(p.before), p.fields as Array<keyof ReturnType<typeof procedureRecord>>) : null,
      after: p.before ? pick(p.after, p.fields as Array<keyof typeof p.after>) : p.after,
    });
  }
  for (const r of planned.rules) {
    if (r.id === null) {
      const [row] = await db
        .insert(feeRules)
        .values({
          id: crypto.randomUUID(),
          procedureCode: r.procedureCode,
          ...r.rule,
          canCharge: canCharge(r.rule),
          createdAt: now,
          updatedAt: now,
        })
        .returning();
      r.id = row!.id;
      audits.push({
        action: 'fee_rule.create',
        resourceType: 'fee_rule',
        resourceId: row!.id,
        agencyCode: null,
        reason,
        after: feeRuleRecord(row!),
      });
      continue;
    }
    // Only what does not price a dossier changes on a rule that exists (the plan refused the rest).
    const changed = DESCRIPTIVE.filter((f) => !same(r.rule[f], r.before![f]));
    const [row] = await db
      .update(feeRules)
      .set({ ...pick(r.rule, changed), updatedAt: now })
      .where(and(eq(feeRules.id, r.id), eq(feeRules.procedureCode, r.procedureCode)))
      .returning();
    audits.push({
      action: r.action === 'closed' ? 'fee_rule.close' : 'fee_rule.update',
      resourceType: 'fee_rule',
      resourceId: r.id,
      agencyCode: null,
      reason,
      before: pick(r.before!, changed),
      after: pick(ruleInputOf(row!), changed),
    });
  }
  audits.push({
    action: 'catalogue.import',
    resourceType: 'catalogue_import',
    resourceId: report.file.sha256,
    agencyCode: null,
    reason,
    after: { file: report.file, summary: report.summary },
  });
  for (const entry of audits) await appendAudit(ctx, principal, entry);
}
