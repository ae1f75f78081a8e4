import { and, desc, eq, gt, inArray, isNull } from 'drizzle-orm';
import { agencies, campaigns, dossiers, feeRules, obligations } from '../db/schema/index.ts';
import { addDays, vnDate } from '../domain/dates.ts';
import { createCampaign } from '../services/campaigns.ts';
import { addFeeRule, putProcedure, upsertAgency } from '../services/catalogue.ts';
import { executor, type ServiceContext, withTransaction } from '../services/context.ts';
import { signPendingReceipts } from '../services/receipts.ts';
import { demoAgencies, PROVINCE } from './agencies.ts';
import { DEMO_CAMPAIGN_STARTED_DAYS_AGO, type SandboxLedgerWriter, SEED_PRINCIPAL, seedDossiers } from './dossiers.ts';
import { DEMO_PROCEDURES } from './procedures.ts';

/**
 * The demo data set: Đồng Nai's agency tree, the real procedures with their fee rules, and a
 * few hundred dossiers of the last 60 days, some paid online through the sandbox. The server
 * loads it into an empty embedded database; `npm run seed` loads it anywhere on request.
 */

const DEFAULT_DOSSIERS = 300;
/** 766: the decision number of the online-payment indicators, as good a seed as any. */
const DEFAULT_SEED = 766;

export interface SeedOptions {
  /** How many dossiers to add (default 300). */
  dossiers?: number;
  /** The demo's "today": dossiers fall in the 60 days before it (default: the context's clock). */
  now?: Date;
  /** Seed of the pseudo-random generator: the same seed and `now` give the same dossiers. */
  seed?: number;
  /**
   * The sandbox's ledger, where the demo's outside world is mounted (Node): the seeded payments
   * are recorded there as its checkout would have, so its settlement file tells the same days.
   */
  recordSandboxChoice?: SandboxLedgerWriter;
}

export interface SeedReport {
  /** Size of the demo catalogue (upserted, so the same on every run). */
  agencies: number;
  procedures: number;
  feeRules: number;
  /** What this run added. */
  dossiers: number;
  paidOnline: number;
  /** The demo campaign (added once per start date). */
  campaignId: string;
}

/**
 * The demo's campaign: Đồng Nai's 30-day push (document 15984/UBND-HCC), three weeks in. Its
 * targets are demo values: the real campaign's are not public.
 */
export const DEMO_CAMPAIGN = {
  name: 'Chiến dịch 30 ngày nâng cao tỷ lệ thanh toán trực tuyến (Văn bản 15984/UBND-HCC, số liệu mẫu)',
  days: 30,
  targets: { procedureOnlinePayment: 0.9, procedureIntegration: 0.9, dossierOnlinePayment: 0.7 },
} as const;

async function seedCampaign(ctx: ServiceContext, now: Date): Promise<string> {
  const startDate = addDays(vnDate(now), -DEMO_CAMPAIGN_STARTED_DAYS_AGO);
  const [existing] = await executor(ctx)
    .select({ id: campaigns.id })
    .from(campaigns)
    .where(and(eq(campaigns.name, DEMO_CAMPAIGN.name), eq(campaigns.startDate, startDate)));
  if (existing) return existing.id;
  const campaign = await createCampaign(
    ctx,
    SEED_PRINCIPAL,
    { name: DEMO_CAMPAIGN.name, agencyCode: PROVINCE, startDate, days: DEMO_CAMPAIGN.days, targets: DEMO_CAMPAIGN.targets },
    `seed-campaign-${startDate}`,
  );
  return campaign.id;
}

/**
 * The dossier the API reference's examples name in the demo (the demo's codes carry the day it
 * was loaded on, so no code is fixed): the latest received with a fee line still to pay and
 * free, so that "try it" can read it and start paying it. None when nothing is left to pay.
 */
export async function demoExampleDossier(ctx: ServiceContext): Promise<string | undefined> {
  const [row] = await executor(ctx)
    .select({ code: dossiers.code })
    .from(dossiers)
    .innerJoin(obligations, eq(obligations.dossierCode, dossiers.code))
    .where(and(eq(obligations.status, 'unpaid'), isNull(obligations.liveIntentId), gt(obligations.amount, 0)))
    .orderBy(desc(dossiers.receivedAt), desc(dossiers.code))
    .limit(1);
  return row?.code;
}

/** Nothing loaded yet: no agency at all (every dossier needs one). */
export async function isDatabaseEmpty(ctx: ServiceContext): Promise<boolean> {
  const rows = await executor(ctx).select({ code: agencies.code }).from(agencies).limit(1);
  return rows.length === 0;
}

/**
 * Upserts the catalogue. Agencies and procedures are updated in place; a fee rule is added only
 * if none with the same (procedure, fee code, validFrom) exists, and an existing one is left as
 * it is: an admin may have corrected it, and obligations refer to it. The one change made to an
 * existing rule is its end: a rule loaded open that the catalogue now closes (the law replaced
 * it, and its successor is added beside it) gets its `validTo`.
 */
async function seedCatalogue(ctx: ServiceContext, now: Date) {
  const tree = demoAgencies(Number(vnDate(now).slice(0, 4)));
  for (const agency of tree) await upsertAgency(ctx, agency);
  for (const { code, procedure } of DEMO_PROCEDURES) await putProcedure(ctx, code, procedure);

  const existing = await executor(ctx)
    .select({ procedureCode: feeRules.procedureCode, feeCode: feeRules.feeCode, validFrom: feeRules.validFrom })
    .from(feeRules)
    .where(
      inArray(
        feeRules.procedureCode,
        DEMO_PROCEDURES.map((p) => p.code),
      ),
    );
  const key = (procedureCode: string, feeCode: string, validFrom: string) => `${procedureCode}|${feeCode}|${validFrom}`;
  const known = new Set(existing.map((r) => key(r.procedureCode, r.feeCode, r.validFrom)));
  let added = 0;
  let total = 0;
  for (const { code, rules } of DEMO_PROCEDURES) {
    for (const rule of rules) {
      total++;
      if (known.has(key(code, rule.feeCode, rule.validFrom))) {
        // A catalogue loaded before rules carried budget codes gets them, once: codes an admin
        // has set since are never overwritten.
        if (rule.budgetChapter) {
          await executor(ctx)
            .update(feeRules)
            .set({
              budgetChapter: rule.budgetChapter,
              budgetSubItem: rule.budgetSubItem,
              budgetAccount: rule.budgetAccount,
              retainedPercent: rule.retainedPercent,
              budgetCodesDemo: rule.budgetCodesDemo ?? false,
            })
            .where(
              and(
                eq(feeRules.procedureCode, code),
                eq(feeRules.feeCode, rule.feeCode),
                eq(feeRules.validFrom, rule.validFrom),
                isNull(feeRules.budgetChapter),
              ),
            );
        }
        if (rule.validTo !== null) {
          await executor(ctx)
            .update(feeRules)
            .set({ validTo: rule.validTo, updatedAt: ctx.now() })
            .where(
              and(
                eq(feeRules.procedureCode, code),
                eq(feeRules.feeCode, rule.feeCode),
                eq(feeRules.validFrom, rule.validFrom),
                isNull(feeRules.validTo),
              ),
            );
        }
        continue;
      }
      await addFeeRule(ctx, code, rule);
      added++;
    }
  }
  return { agencies: tree.length, procedures: DEMO_PROCEDURES.length, feeRules: total, feeRulesAdded: added };
}

/**
 * Loads the demo in one transaction: a failure leaves nothing half-loaded behind (and the
 * server, finding the database still empty, tries again at its next start).
 */
export async function seedDemo(ctx: ServiceContext, options: SeedOptions = {}): Promise<SeedReport> {
  const now = options.now ?? ctx.now();
  const count = options.dossiers ?? DEFAULT_DOSSIERS;
  if (!Number.isInteger(count) || count < 0) throw new RangeError('dossiers must be a non-negative integer');
  const nested = ctx.tx !== undefined;
  const report = await withTransaction(ctx, async (ctx) => {
    const catalogue = await seedCatalogue(ctx, now);
    const result = await seedDossiers(ctx, {
      count,
      now,
      seed: options.seed ?? DEFAULT_SEED,
      intentTtlMinutes: ctx.settings.intentTtlMinutes,
      recordSandboxChoice: options.recordSandboxChoice,
    });
    ctx.log.debug('demo catalogue loaded', { feeRulesAdded: catalogue.feeRulesAdded, intents: result.intents });
    const campaignId = await seedCampaign(ctx, now);
    return {
      campaignId,
      agencies: catalogue.agencies,
      procedures: catalogue.procedures,
      feeRules: catalogue.feeRules,
      dossiers: result.dossiers,
      paidOnline: result.paidOnline,
    };
  });
  // Receipts are signed once their payment commits; the demo's commit is this one.
  if (!nested) await signPendingReceipts(ctx);
  return report;
}
