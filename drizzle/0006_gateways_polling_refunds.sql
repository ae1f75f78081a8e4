CREATE TABLE "refunds" (
	"id" uuid PRIMARY KEY NOT NULL,
	"intent_id" uuid NOT NULL,
	"amount" bigint NOT NULL,
	"full" boolean NOT NULL,
	"reason" text NOT NULL,
	"status" text NOT NULL,
	"requested_by" text NOT NULL,
	"approved_by" text,
	"gateway_refund_id" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"detail" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"completed_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "payment_reviews" ALTER COLUMN "intent_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "payment_intents" ADD COLUMN "poll_attempts" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "payment_intents" ADD COLUMN "next_poll_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "payment_reviews" ADD COLUMN "gateway" text;--> statement-breakpoint
-- Existing reviews all name an intent: they take its gateway.
UPDATE "payment_reviews" r SET "gateway" = i."gateway" FROM "payment_intents" i WHERE i."id" = r."intent_id";--> statement-breakpoint
ALTER TABLE "payment_reviews" ALTER COLUMN "gateway" SET NOT NULL;--> statement-breakpoint
-- Intents already waiting are due for the poller at once.
UPDATE "payment_intents" SET "next_poll_at" = "created_at" WHERE "status" IN ('created', 'pending');--> statement-breakpoint
ALTER TABLE "refunds" ADD CONSTRAINT "refunds_intent_id_payment_intents_id_fk" FOREIGN KEY ("intent_id") REFERENCES "public"."payment_intents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "refunds_intent_idx" ON "refunds" USING btree ("intent_id");--> statement-breakpoint
CREATE INDEX "refunds_open_idx" ON "refunds" USING btree ("status") WHERE "refunds"."status" = 'submitted';--> statement-breakpoint
CREATE INDEX "payment_intents_poll_idx" ON "payment_intents" USING btree ("next_poll_at") WHERE "payment_intents"."status" IN ('created', 'pending');--> statement-breakpoint
CREATE UNIQUE INDEX "payment_reviews_unmatched_once_idx" ON "payment_reviews" USING btree ("gateway","gateway_transaction_id") WHERE "payment_reviews"."intent_id" IS NULL;