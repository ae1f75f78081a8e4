CREATE TABLE "campaign_summaries" (
	"campaign_id" uuid PRIMARY KEY NOT NULL,
	"snapshot" "pg_snapshot" NOT NULL,
	"day" date NOT NULL,
	"refreshed_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "campaign_summary_cells" (
	"campaign_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"win" text NOT NULL,
	"key" text NOT NULL,
	"procedure_code" text NOT NULL,
	"dossiers" integer NOT NULL,
	"fee_dossiers" integer NOT NULL,
	"paid_online" integer NOT NULL,
	"charged" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "indicator_deltas" (
	"id" bigint PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "indicator_deltas_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"xid" "xid8" DEFAULT pg_current_xact_id() NOT NULL,
	"received_date" date NOT NULL,
	"agency_code" text NOT NULL,
	"procedure_code" text NOT NULL,
	"dossiers" integer NOT NULL,
	"zero_fee" integer NOT NULL,
	"charged" integer NOT NULL,
	"paid_online" integer NOT NULL
);
--> statement-breakpoint
ALTER TABLE "campaign_summaries" ADD CONSTRAINT "campaign_summaries_campaign_id_campaigns_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaigns"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "campaign_summary_cells" ADD CONSTRAINT "campaign_summary_cells_campaign_id_campaign_summaries_campaign_id_fk" FOREIGN KEY ("campaign_id") REFERENCES "public"."campaign_summaries"("campaign_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "campaign_summary_cells_campaign_idx" ON "campaign_summary_cells" USING btree ("campaign_id","kind");