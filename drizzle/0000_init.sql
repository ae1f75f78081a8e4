CREATE TABLE "agencies" (
	"code" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"level" text NOT NULL,
	"parent_code" text,
	"path" text NOT NULL,
	"depth" integer NOT NULL,
	"valid_from" date,
	"valid_to" date,
	"merged_into" text,
	"bank_bin" text,
	"account_number" text,
	"account_name" text,
	"receipt_form_symbol" text,
	"receipt_series_symbol" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "agencies_path_ends_with_code" CHECK ("agencies"."path" LIKE '%/' || "agencies"."code" || '/')
);
--> statement-breakpoint
CREATE TABLE "fee_rules" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"procedure_code" text NOT NULL,
	"kind" text NOT NULL,
	"fee_code" text NOT NULL,
	"name" text NOT NULL,
	"line_no" integer DEFAULT 1 NOT NULL,
	"formula" jsonb NOT NULL,
	"adjustments" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"rounding" jsonb DEFAULT '{"mode":"half_up","unit":1}'::jsonb NOT NULL,
	"valid_from" date NOT NULL,
	"valid_to" date,
	"legal_basis" text NOT NULL,
	"collection_account" text,
	"set_by_province" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "procedures" (
	"code" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"field" text NOT NULL,
	"level" text NOT NULL,
	"integrated_online_payment" boolean DEFAULT false NOT NULL,
	"data_confidence" text DEFAULT 'confirmed' NOT NULL,
	"note" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "dossiers" (
	"code" text PRIMARY KEY NOT NULL,
	"procedure_code" text NOT NULL,
	"agency_code" text NOT NULL,
	"channel" text NOT NULL,
	"received_at" timestamp with time zone NOT NULL,
	"received_date" date NOT NULL,
	"applicant_name" text,
	"applicant_address" text,
	"declared_value" bigint,
	"quantity" integer,
	"payer_category" text,
	"online_payment_flag" smallint DEFAULT 0 NOT NULL,
	"paid_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "obligations" (
	"id" uuid PRIMARY KEY NOT NULL,
	"dossier_code" text NOT NULL,
	"fee_rule_id" uuid,
	"line_no" integer NOT NULL,
	"kind" text NOT NULL,
	"fee_code" text NOT NULL,
	"name" text NOT NULL,
	"amount" bigint NOT NULL,
	"adjustment" text,
	"status" text NOT NULL,
	"live_intent_id" uuid,
	"paid_intent_id" uuid,
	"paid_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"principal" text NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"status" text NOT NULL,
	"response_status" integer,
	"response_body" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	CONSTRAINT "idempotency_keys_principal_key_pk" PRIMARY KEY("principal","key")
);
--> statement-breakpoint
CREATE TABLE "intent_obligations" (
	"intent_id" uuid NOT NULL,
	"obligation_id" uuid NOT NULL,
	"amount" bigint NOT NULL,
	CONSTRAINT "intent_obligations_intent_id_obligation_id_pk" PRIMARY KEY("intent_id","obligation_id")
);
--> statement-breakpoint
CREATE TABLE "payment_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"intent_id" uuid NOT NULL,
	"event" text NOT NULL,
	"from_status" text,
	"to_status" text,
	"accepted" boolean NOT NULL,
	"source" text NOT NULL,
	"actor" text,
	"detail" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "payment_intents" (
	"id" uuid PRIMARY KEY NOT NULL,
	"reference" text NOT NULL,
	"dossier_code" text NOT NULL,
	"agency_code" text NOT NULL,
	"gateway" text NOT NULL,
	"amount" bigint NOT NULL,
	"currency" text DEFAULT 'VND' NOT NULL,
	"status" text NOT NULL,
	"return_url" text NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"next_action" jsonb,
	"gateway_reference" text,
	"gateway_transaction_id" text,
	"online_payment_flag" smallint NOT NULL,
	"succeeded_at" timestamp with time zone,
	"refunded_amount" bigint DEFAULT 0 NOT NULL,
	"review_reason" text,
	"principal" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "callback_inbox" (
	"id" uuid PRIMARY KEY NOT NULL,
	"gateway" text NOT NULL,
	"method" text NOT NULL,
	"url" text NOT NULL,
	"headers" jsonb NOT NULL,
	"raw_body" text NOT NULL,
	"status" text DEFAULT 'received' NOT NULL,
	"signature_valid" text DEFAULT 'unchecked' NOT NULL,
	"reference" text,
	"intent_id" uuid,
	"result" text,
	"detail" jsonb,
	"response_status" integer,
	"response_body" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"processed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "receipt_series" (
	"agency_code" text NOT NULL,
	"form_symbol" text NOT NULL,
	"series_symbol" text NOT NULL,
	"last_number" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "receipt_series_agency_code_form_symbol_series_symbol_pk" PRIMARY KEY("agency_code","form_symbol","series_symbol")
);
--> statement-breakpoint
CREATE TABLE "receipts" (
	"id" uuid PRIMARY KEY NOT NULL,
	"intent_id" uuid NOT NULL,
	"dossier_code" text NOT NULL,
	"agency_code" text NOT NULL,
	"agency_name" text NOT NULL,
	"form_symbol" text NOT NULL,
	"series_symbol" text NOT NULL,
	"number" integer NOT NULL,
	"issued_at" timestamp with time zone NOT NULL,
	"issued_date" date NOT NULL,
	"payer_name" text,
	"payer_address" text,
	"lines" jsonb NOT NULL,
	"total" bigint NOT NULL,
	"total_in_words" text NOT NULL,
	"gateway" text NOT NULL,
	"gateway_transaction_id" text,
	"signature" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "sandbox_transactions" (
	"reference" text PRIMARY KEY NOT NULL,
	"transaction_id" text NOT NULL,
	"amount" bigint NOT NULL,
	"status" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "fee_rules" ADD CONSTRAINT "fee_rules_procedure_code_procedures_code_fk" FOREIGN KEY ("procedure_code") REFERENCES "public"."procedures"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dossiers" ADD CONSTRAINT "dossiers_procedure_code_procedures_code_fk" FOREIGN KEY ("procedure_code") REFERENCES "public"."procedures"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "dossiers" ADD CONSTRAINT "dossiers_agency_code_agencies_code_fk" FOREIGN KEY ("agency_code") REFERENCES "public"."agencies"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "obligations" ADD CONSTRAINT "obligations_dossier_code_dossiers_code_fk" FOREIGN KEY ("dossier_code") REFERENCES "public"."dossiers"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "obligations" ADD CONSTRAINT "obligations_fee_rule_id_fee_rules_id_fk" FOREIGN KEY ("fee_rule_id") REFERENCES "public"."fee_rules"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "intent_obligations" ADD CONSTRAINT "intent_obligations_intent_id_payment_intents_id_fk" FOREIGN KEY ("intent_id") REFERENCES "public"."payment_intents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "intent_obligations" ADD CONSTRAINT "intent_obligations_obligation_id_obligations_id_fk" FOREIGN KEY ("obligation_id") REFERENCES "public"."obligations"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_events" ADD CONSTRAINT "payment_events_intent_id_payment_intents_id_fk" FOREIGN KEY ("intent_id") REFERENCES "public"."payment_intents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payment_intents" ADD CONSTRAINT "payment_intents_dossier_code_dossiers_code_fk" FOREIGN KEY ("dossier_code") REFERENCES "public"."dossiers"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "receipts" ADD CONSTRAINT "receipts_intent_id_payment_intents_id_fk" FOREIGN KEY ("intent_id") REFERENCES "public"."payment_intents"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "agencies_parent_idx" ON "agencies" USING btree ("parent_code");--> statement-breakpoint
CREATE INDEX "agencies_path_idx" ON "agencies" USING btree ("path" text_pattern_ops);--> statement-breakpoint
CREATE INDEX "fee_rules_procedure_idx" ON "fee_rules" USING btree ("procedure_code","valid_from");--> statement-breakpoint
CREATE INDEX "dossiers_agency_date_idx" ON "dossiers" USING btree ("agency_code","received_date");--> statement-breakpoint
CREATE INDEX "dossiers_procedure_date_idx" ON "dossiers" USING btree ("procedure_code","received_date");--> statement-breakpoint
CREATE UNIQUE INDEX "obligations_dossier_line_idx" ON "obligations" USING btree ("dossier_code","line_no");--> statement-breakpoint
CREATE INDEX "obligations_live_intent_idx" ON "obligations" USING btree ("live_intent_id") WHERE "obligations"."live_intent_id" IS NOT NULL;--> statement-breakpoint
CREATE INDEX "intent_obligations_obligation_idx" ON "intent_obligations" USING btree ("obligation_id");--> statement-breakpoint
CREATE INDEX "payment_events_intent_idx" ON "payment_events" USING btree ("intent_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "payment_intents_reference_idx" ON "payment_intents" USING btree ("reference");--> statement-breakpoint
CREATE INDEX "payment_intents_dossier_idx" ON "payment_intents" USING btree ("dossier_code");--> statement-breakpoint
CREATE INDEX "payment_intents_live_expiry_idx" ON "payment_intents" USING btree ("status","expires_at");--> statement-breakpoint
CREATE INDEX "callback_inbox_status_idx" ON "callback_inbox" USING btree ("status","received_at");--> statement-breakpoint
CREATE INDEX "callback_inbox_reference_idx" ON "callback_inbox" USING btree ("gateway","reference");--> statement-breakpoint
CREATE UNIQUE INDEX "receipts_intent_idx" ON "receipts" USING btree ("intent_id");--> statement-breakpoint
CREATE UNIQUE INDEX "receipts_series_number_idx" ON "receipts" USING btree ("agency_code","form_symbol","series_symbol","number");