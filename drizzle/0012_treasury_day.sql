CREATE TABLE "book_adjustments" (
	"id" uuid PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"business_date" date NOT NULL,
	"booked_date" date NOT NULL,
	"agency_code" text NOT NULL,
	"intent_id" uuid,
	"amount" bigint NOT NULL,
	"reason" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "discrepancies" (
	"id" uuid PRIMARY KEY NOT NULL,
	"reconciliation_id" uuid NOT NULL,
	"source" text NOT NULL,
	"business_date" date NOT NULL,
	"agency_code" text NOT NULL,
	"class" text NOT NULL,
	"subject" text NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"statement_id" uuid,
	"line_no" integer,
	"intent_id" uuid,
	"review_id" uuid,
	"statement_amount" bigint,
	"hub_amount" bigint,
	"detail" jsonb,
	"assignee" text,
	"flagged_at" timestamp with time zone,
	"flag_count" integer DEFAULT 0 NOT NULL,
	"resolution" jsonb,
	"decided_by" text,
	"approved_by" text,
	"resolved_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "discrepancy_comments" (
	"id" uuid PRIMARY KEY NOT NULL,
	"discrepancy_id" uuid NOT NULL,
	"author" text NOT NULL,
	"body" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "offline_payments" (
	"intent_id" uuid PRIMARY KEY NOT NULL,
	"method" text NOT NULL,
	"collector" text NOT NULL,
	"paper_receipt_number" text,
	"collected_at" timestamp with time zone NOT NULL,
	"recorded_by" text NOT NULL,
	"e_receipt" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "reconciliation_items" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"reconciliation_id" uuid NOT NULL,
	"statement_id" uuid,
	"line_no" integer,
	"intent_id" uuid,
	"class" text NOT NULL,
	"rule" text,
	"statement_amount" bigint,
	"hub_amount" bigint
);
--> statement-breakpoint
CREATE TABLE "reconciliations" (
	"id" uuid PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"business_date" date NOT NULL,
	"agency_code" text NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"statement_id" uuid,
	"runs" integer DEFAULT 0 NOT NULL,
	"last_run_at" timestamp with time zone,
	"last_run_by" text,
	"summary" jsonb,
	"totals" jsonb,
	"closed_by" text,
	"closed_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "statement_lines" (
	"statement_id" uuid NOT NULL,
	"line_no" integer NOT NULL,
	"transaction_id" text,
	"reference" text,
	"amount" bigint,
	"occurred_at" timestamp with time zone,
	"text" text,
	"direction" text,
	"status" text,
	"error" text,
	CONSTRAINT "statement_lines_statement_id_line_no_pk" PRIMARY KEY("statement_id","line_no")
);
--> statement-breakpoint
CREATE TABLE "statements" (
	"id" uuid PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"business_date" date NOT NULL,
	"agency_code" text NOT NULL,
	"format" text NOT NULL,
	"file_name" text,
	"content_hash" text NOT NULL,
	"mapping" jsonb,
	"status" text NOT NULL,
	"lines_total" integer DEFAULT 0 NOT NULL,
	"lines_imported" integer DEFAULT 0 NOT NULL,
	"lines_rejected" integer DEFAULT 0 NOT NULL,
	"credit_total" bigint DEFAULT 0 NOT NULL,
	"debit_total" bigint DEFAULT 0 NOT NULL,
	"superseded_by" uuid,
	"uploaded_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "sandbox_bank_credits" (
	"bank_reference" text PRIMARY KEY NOT NULL,
	"account" text NOT NULL,
	"amount" bigint NOT NULL,
	"text" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "agencies" ADD COLUMN "issues_counter_receipts" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "fee_rules" ADD COLUMN "budget_chapter" text;--> statement-breakpoint
ALTER TABLE "fee_rules" ADD COLUMN "budget_sub_item" text;--> statement-breakpoint
ALTER TABLE "fee_rules" ADD COLUMN "budget_account" text;--> statement-breakpoint
ALTER TABLE "fee_rules" ADD COLUMN "retained_percent" numeric(5, 2);--> statement-breakpoint
ALTER TABLE "fee_rules" ADD COLUMN "budget_codes_demo" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "book_adjustments" ADD CONSTRAINT "book_adjustments_intent_id_payment_intents_id_fk" FOREIGN KEY ("intent_id") REFERENCES "public"."payment_intents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "discrepancies" ADD CONSTRAINT "discrepancies_reconciliation_id_reconciliations_id_fk" FOREIGN KEY ("reconciliation_id") REFERENCES "public"."reconciliations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "discrepancies" ADD CONSTRAINT "discrepancies_intent_id_payment_intents_id_fk" FOREIGN KEY ("intent_id") REFERENCES "public"."payment_intents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "discrepancies" ADD CONSTRAINT "discrepancies_review_id_payment_reviews_id_fk" FOREIGN KEY ("review_id") REFERENCES "public"."payment_reviews"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "discrepancy_comments" ADD CONSTRAINT "discrepancy_comments_discrepancy_id_discrepancies_id_fk" FOREIGN KEY ("discrepancy_id") REFERENCES "public"."discrepancies"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "offline_payments" ADD CONSTRAINT "offline_payments_intent_id_payment_intents_id_fk" FOREIGN KEY ("intent_id") REFERENCES "public"."payment_intents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reconciliation_items" ADD CONSTRAINT "reconciliation_items_reconciliation_id_reconciliations_id_fk" FOREIGN KEY ("reconciliation_id") REFERENCES "public"."reconciliations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reconciliations" ADD CONSTRAINT "reconciliations_statement_id_statements_id_fk" FOREIGN KEY ("statement_id") REFERENCES "public"."statements"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "statement_lines" ADD CONSTRAINT "statement_lines_statement_id_statements_id_fk" FOREIGN KEY ("statement_id") REFERENCES "public"."statements"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "book_adjustments_booked_idx" ON "book_adjustments" USING btree ("source","booked_date");--> statement-breakpoint
CREATE UNIQUE INDEX "book_adjustments_once_idx" ON "book_adjustments" USING btree ("intent_id","business_date") WHERE "book_adjustments"."intent_id" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "discrepancies_subject_idx" ON "discrepancies" USING btree ("source","business_date","class","subject");--> statement-breakpoint
CREATE INDEX "discrepancies_open_idx" ON "discrepancies" USING btree ("status","business_date");--> statement-breakpoint
CREATE INDEX "discrepancies_review_idx" ON "discrepancies" USING btree ("review_id") WHERE "discrepancies"."review_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "discrepancy_comments_idx" ON "discrepancy_comments" USING btree ("discrepancy_id","created_at");--> statement-breakpoint
CREATE INDEX "reconciliation_items_run_idx" ON "reconciliation_items" USING btree ("reconciliation_id","class");--> statement-breakpoint
CREATE INDEX "reconciliation_items_intent_idx" ON "reconciliation_items" USING btree ("intent_id") WHERE "reconciliation_items"."intent_id" IS NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "reconciliations_day_idx" ON "reconciliations" USING btree ("source","business_date");--> statement-breakpoint
CREATE INDEX "reconciliations_agency_idx" ON "reconciliations" USING btree ("agency_code","business_date");--> statement-breakpoint
CREATE UNIQUE INDEX "statements_content_idx" ON "statements" USING btree ("source","business_date","content_hash");--> statement-breakpoint
CREATE UNIQUE INDEX "statements_current_idx" ON "statements" USING btree ("source","business_date") WHERE "statements"."status" = 'current';--> statement-breakpoint
CREATE INDEX "statements_agency_date_idx" ON "statements" USING btree ("agency_code","business_date");--> statement-breakpoint
CREATE INDEX "sandbox_bank_credits_account_idx" ON "sandbox_bank_credits" USING btree ("account","created_at");--> statement-breakpoint
-- A closed day cannot change: its totals are what the treasury signed off (late money is booked as
-- an adjustment on the next open day instead).
CREATE FUNCTION reconciliations_closed_final() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status = 'closed' THEN
    RAISE EXCEPTION 'the day % of % is closed and cannot change', OLD.business_date, OLD.source USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
--> statement-breakpoint
CREATE TRIGGER reconciliations_final BEFORE UPDATE OR DELETE ON reconciliations FOR EACH ROW EXECUTE FUNCTION reconciliations_closed_final();
--> statement-breakpoint
-- A person's resolution of a discrepancy is never rewritten.
CREATE FUNCTION discrepancies_resolved_final() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status = 'resolved' THEN
    RAISE EXCEPTION 'discrepancy % is resolved and cannot change', OLD.id USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
--> statement-breakpoint
CREATE TRIGGER discrepancies_final BEFORE UPDATE OR DELETE ON discrepancies FOR EACH ROW EXECUTE FUNCTION discrepancies_resolved_final();
