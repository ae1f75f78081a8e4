import { and, asc, eq, ne, sql } from 'drizzle-orm';
import { agencies, dossiers, feeRules, obligations, procedures } from '../db/schema/index.ts';
import { vnDate } from '../domain/dates.ts';
import { type DvcqgSyncRecord, dvcqgSyncRecord } from '../domain/dvcqg-sync.ts';
import {
  type Channel,
  computeFee,
  type FeeFormula,
  FeeInputError,
  inputsUsed,
  isRuleValidOn,
  payerCategoriesOf,
  type VehicleRegistration,
} from '../domain/fees.ts';
import { sumVnd } from '../domain/money.ts';
import { implausibleInputs } from '../domain/plausibility.ts';
import { executor, type ServiceContext, withTransaction } from './context.ts';
import { notFound, ServiceError } from './errors.ts';
import { type Principal, scopeCondition } from './principal.ts';

export interface DossierInput {
  procedureCode: string;
  agencyCode: string;
  channel: Channel;
  receivedAt: Date;
  applicant?: { name?: string | null; address?: string | null } | null;
  declaredValue?: number | null;
  quantity?: number | null;
  /** Copies asked for (a per-copy fee); absent: one. */
  copies?: number | null;
  /** The payer's categories; `payerCategory` is a one-item alias, and the two add up. */
  payerCategories?: readonly string[] | null;
  payerCategory?: string | null;
  vehicleRegistration?: VehicleRegistration | null;
  urbanArea?: boolean | null;
}

interface ObligationView {
  id: string;
  lineNo: number;
  kind: 'phi' | 'le_phi';
  feeCode: string;
  name: string;
  amount: number;
  adjustment: string | null;
  status: 'unpaid' | 'paid' | 'refunded' | 'waived';
}

export interface DossierView {
  code: string;
  procedureCode: string;
  agencyCode: string;
  channel: Channel;
  receivedAt: string;
  receivedDate: string;
  applicant: { name: string | null; address: string | null } | null;
  declaredValue: number | null;
  quantity: number | null;
  copies: number | null;
  payerCategories: string[];
  /** The one category when there is exactly one (the alias older clients read), else null. */
  payerCategory: string | null;
  vehicleRegistration: VehicleRegistration | null;
  urbanArea: boolean | null;
  onlinePaymentFlag: number;
  paidAt: string | null;
  obligations: ObligationView[];
  totalDue: number;
  createdAt: string;
  updatedAt: string;
}

type DossierRow = typeof dossiers.$inferSelect;
type ObligationRow = typeof obligations.$inferSelect;

function toView(row: DossierRow, lines: ObligationRow[]): DossierView {
  const visible = lines.filter((o) => o.status !== 'void');
  return {
    code: row.code,
    procedureCode: row.procedureCode,
    agencyCode: row.agencyCode,
    channel: row.channel,
    receivedAt: row.receivedAt.toISOString(),
    receivedDate: row.receivedDate,
    applicant:
      row.applicantName === null && row.applicantAddress === null ? null : { name: row.applicantName, address: row.applicantAddress },
    declaredValue: row.declaredValue,
    quantity: row.quantity,
    copies: row.copies,
    payerCategories: row.payerCategories,
    payerCategory: row.payerCategories.length === 1 ? row.payerCategories[0]! : null,
    vehicleRegistration: row.vehicleRegistration,
    urbanArea: row.urbanArea,
    onlinePaymentFlag: row.onlinePaymentFlag,
    paidAt: row.paidAt?.toISOString() ?? null,
    obligations: visible.map((o) => ({
      id: o.id,
      lineNo: o.lineNo,
      kind: o.kind,
      feeCode: o.feeCode,
      name: o.name,
      amount: o.amount,
      adjustment: o.adjustment,
      status: o.status as ObligationView['status'],
    })),
    totalDue: sumVnd(visible.filter((o) => o.status === 'unpaid').map((o) => o.amount)),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

/** The dossier, if it exists inside the principal's scope (otherwise "not found", never "forbidden"). */
async function findDossier(ctx: ServiceContext, principal: Principal, code: string) {
  const scope = scopeCondition(principal, dossiers.agencyCode);
  const [row] = await executor(ctx)
    .select()
    .from(dossiers)
    .where(scope ? and(eq(dossiers.code, code), scope) : eq(dossiers.code, code));
  return row;
}

async function loadObligations(ctx: ServiceContext, code: string): Promise<ObligationRow[]> {
  return executor(ctx)
    .select()
    .from(obligations)
    .where(and(eq(obligations.dossierCode, code), ne(obligations.status, 'void')))
    .orderBy(asc(obligations.lineNo));
}

export async function getDossier(ctx: ServiceContext, principal: Principal, code: string): Promise<DossierView> {
  const row = await findDossier(ctx, principal, code);
  if (!row) throw notFound(`dossier ${code}`);
  return toView(row, await loadObligations(ctx, code));
}

interface ComputedLine extends Omit<ObligationView, 'id' | 'status'> {
  feeRuleId: string;
}

type FeeInputsOfDossier = Pick<
  DossierRow,
  'channel' | 'receivedDate' | 'declaredValue' | 'quantity' | 'copies' | 'payerCategories' | 'vehicleRegistration' | 'urbanArea'
>;

/** The fee lines of a dossier from the rules valid on its receipt date, for its channel. */
async function computeLines(ctx: ServiceContext, procedureCode: string, inputs: FeeInputsOfDossier): Promise<ComputedLine[]> {
  const rules = await executor(ctx)
    .select()
    .from(feeRules)
    .where(eq(feeRules.procedureCode, procedureCode))
    .orderBy(asc(feeRules.lineNo), asc(feeRules.validFrom));
  const valid = rules.filter((r) => isRuleValidOn(r, inputs.receivedDate));
  const lines: ComputedLine[] = [];
  for (const rule of valid) {
    try {
      const { amount, adjustment } = computeFee(rule, inputs);
      lines.push({
        feeRuleId: rule.id,
        lineNo: lines.length + 1,
        kind: rule.kind,
        feeCode: rule.feeCode,
        name: rule.name,
        amount,
        adjustment,
      });
    } catch (error) {
      if (error instanceof FeeInputError) {
        throw new ServiceError('fee-input-missing', `fee "${rule.name}" needs ${error.field}`, [
          { path: error.field, message: error.message },
        ]);
      }
      if (error instanceof RangeError) throw feeOutOfRange(`fee "${rule.name}"`, [rule]);
      throw error;
    }
  }
  try {
    sumVnd(lines.map((l) => l.amount));
  } catch (error) {
    if (error instanceof RangeError) throw feeOutOfRange('the total of the fees', valid);
    throw error;
  }
  return lines;
}

/**
 * Fees beyond the exact integer range (2^53 − 1 đ): rules and inputs that are individually valid
 * can multiply or add up past it. Refused as unprocessable, naming the inputs the rules read,
 * rather than stored rounded or failing later as a 500.
 */
function feeOutOfRange(what: string, rules: Array<{ formula: FeeFormula }>): ServiceError {
  const fields = [...new Set(rules.flatMap((r) => inputsUsed(r.formula)))];
  return new ServiceError(
    'fee-out-of-range',
    `${what} exceeds the exact VND range for these inputs`,
    fields.map((path) => ({ path, message: 'gives a fee beyond the exact VND range' })),
  );
}

type DossierRecord = Omit<DossierRow, 'createdAt' | 'updatedAt' | 'onlinePaymentFlag' | 'paidAt' | 'feeList'>;

function sameFeeInputs(row: DossierRow, next: DossierRecord): boolean {
  return (
    row.procedureCode === next.procedureCode &&
    row.channel === next.channel &&
    row.receivedDate === next.receivedDate &&
    row.declaredValue === next.declaredValue &&
    row.quantity === next.quantity &&
    row.copies === next.copies &&
    row.payerCategories.join('\n') === next.payerCategories.join('\n') &&
    row.vehicleRegistration === next.vehicleRegistration &&
    row.urbanArea === next.urbanArea
  );
}

function sameRecord(row: DossierRow, next: DossierRecord): boolean {
  return (
    sameFeeInputs(row, next) &&
    row.agencyCode === next.agencyCode &&
    row.receivedAt.getTime() === next.receivedAt.getTime() &&
    row.applicantName === next.applicantName &&
    row.applicantAddress === next.applicantAddress
  );
}

/**
 * Registers or updates a dossier and computes its obligations. The same body again changes
 * nothing. New fee inputs recompute the obligations, but only while nothing is paid or held by
 * a live intent: money already asked for is never recomputed underneath the payer.
 */
export async function putDossier(
  ctx: ServiceContext,
  principal: Principal,
  code: string,
  input: DossierInput,
): Promise<{ dossier: DossierView; created: boolean }> {
  const attempt = () =>
    withTransaction(ctx, async (ctx) => {
      const db = executor(ctx);
      const agencyScope = scopeCondition(principal, agencies.code);
      // The code's receiving unit (before `-yymmdd-nnnn`) must be the caller's: otherwise agency A
      // could take a code of agency B's series, and B could no longer register its dossier. Checked
      // before anything is looked up by the code, so the answer says nothing of other agencies' dossiers.
      const receivingUnit = code.slice(0, -'-yymmdd-nnnn'.length);
      const [unit] = await db
        .select({ code: agencies.code })
        .from(agencies)
        .where(agencyScope ? and(eq(agencies.code, receivingUnit), agencyScope) : eq(agencies.code, receivingUnit));
      if (!unit) {
        throw new ServiceError(
          'dossier-code-out-of-scope',
          `a dossier code starts with its receiving unit, and ${receivingUnit} is not an agency within your scope`,
          [{ path: 'code', message: 'the part before the date must be an agency code of your scope' }],
        );
      }
      const [agency] = await db
        .select({ code: agencies.code })
        .from(agencies)
        .where(agencyScope ? and(eq(agencies.code, input.agencyCode), agencyScope) : eq(agencies.code, input.agencyCode));
      if (!agency) {
        throw new ServiceError('unknown-agency', `agency ${input.agencyCode} is not known in your scope`, [
          { path: 'agencyCode', message: 'unknown agency' },
        ]);
      }
      const [procedure] = await db
        .select({
          code: procedures.code,
          // When the catalogue's earliest fee rule takes effect: a receipt before it has no fee lines at all.
          firstRuleDate: sql<string | null>`(SELECT min(${feeRules.validFrom})::text FROM ${feeRules})`,
        })
        .from(procedures)
        .where(eq(procedures.code, input.procedureCode));
      if (!procedure) {
        throw new ServiceError('unknown-procedure', `procedure ${input.procedureCode} is not in the catalogue`, [
          { path: 'procedureCode', message: 'unknown procedure' },
        ]);
      }
      // A careless value (a declared value of 2^53 − 1 đ, a receipt dated 2099) is refused here,
      // before anything is written: never a fee no gateway takes, nor a dossier without fee lines.
      const implausible = implausibleInputs(
        { ...input, receivedDate: vnDate(input.receivedAt) },
        ctx.settings.dossierLimits,
        vnDate(ctx.now()),
        procedure.firstRuleDate,
      );
      if (implausible.length > 0) {
        throw new ServiceError(
          'validation-failed',
          `implausible fee inputs: ${implausible.map((i) => `${i.path} ${i.message}`).join('; ')}`,
          implausible,
        );
      }

      const next = {
        code,
        procedureCode: input.procedureCode,
        agencyCode: input.agencyCode,
        channel: input.channel,
        receivedAt: input.receivedAt,
        receivedDate: vnDate(input.receivedAt),
        applicantName: input.applicant?.name ?? null,
        applicantAddress: input.applicant?.address ?? null,
        declaredValue: input.declaredValue ?? null,
        quantity: input.quantity ?? null,
        copies: input.copies ?? null,
        // A set: sorted and each once, so the same categories in another order change nothing.
        payerCategories: payerCategoriesOf(input).sort(),
        vehicleRegistration: input.vehicleRegistration ?? null,
        urbanArea: input.urbanArea ?? null,
      };

      // Locked whether or not the caller may see it: the code is taken either way.
      const [found] = await db
        .select({ row: dossiers, visible: scopeCondition(principal, dossiers.agencyCode) ?? sql<boolean>`true` })
        .from(dossiers)
        .where(eq(dossiers.code, code))
        .for('update', { of: dossiers });
      const existing = found?.row;
      if (existing) {
        // A dossier outside the caller's scope does not exist for it.
        if (!found.visible) throw notFound(`dossier ${code}`);
        const current = await loadObligations(ctx, code);
        if (sameRecord(existing, next)) return { dossier: toView(existing, current), created: false };

        const feeInputsChanged = !sameFeeInputs(existing, next);
        // The collecting agency is on receipts and scopes the intents: it is locked like the fees.
        if (feeInputsChanged || existing.agencyCode !== next.agencyCode) {
          const locked = current.filter((o) => o.status === 'paid' || o.status === 'refunded' || o.liveIntentId !== null);
          if (locked.length > 0) {
            throw new ServiceError(
              'fee-inputs-locked',
              'fee inputs and the agency cannot change once an obligation is paid or held by a live payment intent',
              [],
              { obligationIds: locked.map((o) => o.id) },
            );
          }
        }
        const lines = feeInputsChanged ? await computeLines(ctx, next.procedureCode, next) : null;
        // The 766 roll-ups follow the dossier, and its fee list follows its obligations (triggers,
        // migration 0010), in this transaction. The dossier moves first: a move to another day,
        // unit or procedure locks its two roll-up rows in key order, and only then does the new
        // fee list touch the new row, so two moves in opposite directions cannot deadlock.
        const [updated] = await db
          .update(dossiers)
          .set({ ...next, updatedAt: ctx.now() })
          .where(eq(dossiers.code, code))
          .returning();
        if (lines) {
          await db
            .update(obligations)
            .set({ status: 'void', updatedAt: ctx.now() })
            .where(and(eq(obligations.dossierCode, code), ne(obligations.status, 'void')));
          await insertObligations(ctx, code, lines);
        }
        return { dossier: toView(updated!, await loadObligations(ctx, code)), created: false };
      }

      const lines = await computeLines(ctx, next.procedureCode, next);
      const now = ctx.now();
      const inserted = await db
        .insert(dossiers)
        .values({ ...next, createdAt: now, updatedAt: now })
        .onConflictDoNothing({ target: dossiers.code })
        .returning();
      if (inserted.length === 0) throw new ConcurrentCreate();
      await insertObligations(ctx, code, lines);
      return { dossier: toView(inserted[0]!, await loadObligations(ctx, code)), created: true };
    });

  try {
    return await attempt();
  } catch (error) {
    // Two first registrations raced; the loser re-runs as an update of the winner's row.
    if (error instanceof ConcurrentCreate) return attempt();
    throw error;
  }
}

class ConcurrentCreate extends Error {}

async function insertObligations(ctx: ServiceContext, dossierCode: string, lines: ComputedLine[]): Promise<void> {
  if (lines.length === 0) return;
  const now = ctx.now();
  await executor(ctx)
    .insert(obligations)
    .values(
      lines.map((line) => ({
        id: crypto.randomUUID(),
        dossierCode,
        feeRuleId: line.feeRuleId,
        lineNo: line.lineNo,
        kind: line.kind,
        feeCode: line.feeCode,
        name: line.name,
        amount: line.amount,
        adjustment: line.adjustment,
        // Zero-priced lines are kept (the portal counts them) but never asked for.
        status: line.amount === 0 ? ('waived' as const) : ('unpaid' as const),
        createdAt: now,
        updatedAt: now,
      })),
    );
}

/** `GET /v1/dossiers/{code}/dvcqg-sync`: what the dossier system hands the national portal. */
export async function getDvcqgSync(ctx: ServiceContext, principal: Principal, code: string): Promise<DvcqgSyncRecord> {
  const row = await findDossier(ctx, principal, code);
  if (!row) throw notFound(`dossier ${code}`);
  const lines = await loadObligations(ctx, code);
  return dvcqgSyncRecord({ ...row, lines }, ctx.settings.collectionForms);
}
