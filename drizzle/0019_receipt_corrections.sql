DROP INDEX "receipts_intent_idx";--> statement-breakpoint
ALTER TABLE "receipts" ADD COLUMN "kind" text DEFAULT 'original' NOT NULL;--> statement-breakpoint
ALTER TABLE "receipts" ADD COLUMN "original_id" uuid;--> statement-breakpoint
ALTER TABLE "receipts" ADD COLUMN "reason" text;--> statement-breakpoint
ALTER TABLE "receipts" ADD CONSTRAINT "receipts_original_id_receipts_id_fk" FOREIGN KEY ("original_id") REFERENCES "public"."receipts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "receipts_original_idx" ON "receipts" USING btree ("original_id");--> statement-breakpoint
CREATE UNIQUE INDEX "receipts_intent_idx" ON "receipts" USING btree ("intent_id") WHERE "receipts"."kind" = 'original';--> statement-breakpoint
ALTER TABLE "receipts" ADD CONSTRAINT "receipts_correction_refers" CHECK (("receipts"."kind" = 'original') = ("receipts"."original_id" IS NULL));--> statement-breakpoint
ALTER TABLE "receipts" ADD CONSTRAINT "receipts_kind_known" CHECK ("receipts"."kind" IN ('original', 'adjusting', 'replacing'));