CREATE TABLE "audit_log" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"actor" text NOT NULL,
	"action" text NOT NULL,
	"resource_type" text NOT NULL,
	"resource_id" text NOT NULL,
	"agency_code" text,
	"reason" text,
	"before" jsonb,
	"after" jsonb,
	"prev_hash" text NOT NULL,
	"hash" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "payment_intents" ADD COLUMN "received_amount" bigint;--> statement-breakpoint
ALTER TABLE "refunds" ADD COLUMN "review_id" uuid;--> statement-breakpoint
ALTER TABLE "refunds" ADD COLUMN "gateway_transaction_id" text;--> statement-breakpoint
ALTER TABLE "refunds" ADD COLUMN "method" text DEFAULT 'gateway' NOT NULL;--> statement-breakpoint
ALTER TABLE "payment_reviews" ADD COLUMN "agency_code" text;--> statement-breakpoint
ALTER TABLE "payment_reviews" ADD COLUMN "decision" jsonb;--> statement-breakpoint
ALTER TABLE "payment_reviews" ADD COLUMN "outcome" jsonb;--> statement-breakpoint
ALTER TABLE "payment_reviews" ADD COLUMN "decided_by" text;--> statement-breakpoint
ALTER TABLE "payment_reviews" ADD COLUMN "decided_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "payment_reviews" ADD COLUMN "approved_by" text;--> statement-breakpoint
CREATE UNIQUE INDEX "audit_log_hash_idx" ON "audit_log" USING btree ("hash");--> statement-breakpoint
CREATE INDEX "audit_log_resource_idx" ON "audit_log" USING btree ("resource_type","resource_id","id");--> statement-breakpoint
CREATE INDEX "audit_log_actor_idx" ON "audit_log" USING btree ("actor","id");--> statement-breakpoint
CREATE INDEX "payment_intents_listing_idx" ON "payment_intents" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "refunds_review_idx" ON "refunds" USING btree ("review_id") WHERE "refunds"."review_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "refunds_listing_idx" ON "refunds" USING btree ("status","created_at");--> statement-breakpoint
-- The audit log is append-only: nothing updates, deletes or truncates it (services/audit.ts
-- chains its rows by hash, so a change made around this trigger is still found by the check).
CREATE FUNCTION audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END
$$;
--> statement-breakpoint
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
--> statement-breakpoint
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
--> statement-breakpoint
-- A person's decision on money is never rewritten: a resolved review stays as it was resolved.
CREATE FUNCTION payment_reviews_resolved_final() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF OLD.status = 'resolved' THEN
    RAISE EXCEPTION 'payment review % is resolved and cannot change', OLD.id USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;
--> statement-breakpoint
CREATE TRIGGER payment_reviews_final BEFORE UPDATE OR DELETE ON payment_reviews FOR EACH ROW EXECUTE FUNCTION payment_reviews_resolved_final();
--> statement-breakpoint
-- Reviews without an intent opened before this migration: the agency owning the account the money
-- reached when the message names one, else the province root.
UPDATE payment_reviews r SET agency_code = coalesce(
  (SELECT a.code FROM agencies a WHERE a.account_number IS NOT NULL
     AND regexp_replace(a.account_number, '[\s.-]', '', 'g') = regexp_replace(coalesce(r.detail->>'payeeAccount', ''), '[\s.-]', '', 'g')
   ORDER BY a.code LIMIT 1),
  (SELECT a.code FROM agencies a WHERE a.parent_code IS NULL ORDER BY a.code LIMIT 1))
WHERE r.intent_id IS NULL AND r.agency_code IS NULL;
