CREATE TABLE "reconciliation_matches" (
	"reconciliation_id" uuid NOT NULL,
	"chunk" integer NOT NULL,
	"statement_id" uuid NOT NULL,
	"line_nos" integer[] NOT NULL,
	"intent_ids" uuid[] NOT NULL,
	"rules" smallint[] NOT NULL,
	"amounts" bigint[] NOT NULL,
	CONSTRAINT "reconciliation_matches_reconciliation_id_chunk_pk" PRIMARY KEY("reconciliation_id","chunk")
);
--> statement-breakpoint
ALTER TABLE "reconciliation_matches" ADD CONSTRAINT "reconciliation_matches_reconciliation_id_reconciliations_id_fk" FOREIGN KEY ("reconciliation_id") REFERENCES "public"."reconciliations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
-- Every line and payment of a run as one row each, whatever the table that keeps it: the items
-- (what is not a plain match, and matches that cross days) and the day's matches, unnested. The
-- rule names by position are lineRules (src/db/schema/treasury-day.ts).
CREATE VIEW "reconciliation_results" AS
  SELECT i.reconciliation_id, i.statement_id, i.line_no, i.intent_id, i.class, i.rule, i.statement_amount, i.hub_amount
  FROM reconciliation_items i
  UNION ALL
  SELECT m.reconciliation_id, m.statement_id, u.line_no, u.intent_id, 'matched',
         (ARRAY['transaction_id', 'reference', 'text_reference', 'amount_time'])[u.rule], u.amount, u.amount
  FROM reconciliation_matches m CROSS JOIN LATERAL unnest(m.line_nos, m.intent_ids, m.rules, m.amounts) AS u(line_no, intent_id, rule, amount);
--> statement-breakpoint
-- Random ids do not compress: not trying saves the time of trying on every write.
ALTER TABLE "reconciliation_matches" ALTER COLUMN "intent_ids" SET STORAGE EXTERNAL;
