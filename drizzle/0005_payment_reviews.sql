CREATE TABLE "payment_reviews" (
	"id" uuid PRIMARY KEY NOT NULL,
	"intent_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"gateway_transaction_id" text DEFAULT '' NOT NULL,
	"amount" bigint,
	"proposed_action" text NOT NULL,
	"reason" text NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"detail" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"resolved_at" timestamp with time zone,
	"resolved_by" text
);
--> statement-breakpoint
ALTER TABLE "payment_reviews" ADD CONSTRAINT "payment_reviews_intent_id_payment_intents_id_fk" FOREIGN KEY ("intent_id") REFERENCES "public"."payment_intents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "payment_reviews_once_idx" ON "payment_reviews" USING btree ("intent_id","kind","gateway_transaction_id");--> statement-breakpoint
CREATE INDEX "payment_reviews_open_idx" ON "payment_reviews" USING btree ("status","created_at");--> statement-breakpoint
ALTER TABLE "payment_intents" DROP COLUMN "agency_code";