CREATE TABLE "receipt_requests" (
	"id" uuid PRIMARY KEY NOT NULL,
	"seq" bigint GENERATED ALWAYS AS IDENTITY (sequence name "receipt_requests_seq_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"intent_id" uuid NOT NULL,
	"dossier_code" text NOT NULL,
	"agency_code" text NOT NULL,
	"lookup_code" text NOT NULL,
	"lines" jsonb NOT NULL,
	"total" bigint NOT NULL,
	"total_in_words" text NOT NULL,
	"gateway" text NOT NULL,
	"gateway_transaction_id" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "receipt_requests" ADD CONSTRAINT "receipt_requests_intent_id_payment_intents_id_fk" FOREIGN KEY ("intent_id") REFERENCES "public"."payment_intents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "receipt_requests_intent_idx" ON "receipt_requests" USING btree ("intent_id");--> statement-breakpoint
CREATE INDEX "receipt_requests_agency_idx" ON "receipt_requests" USING btree ("agency_code","seq");