CREATE TABLE "campaigns" (
	"id" uuid PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"agency_code" text NOT NULL,
	"start_date" date NOT NULL,
	"days" integer NOT NULL,
	"baseline_from" date NOT NULL,
	"baseline_to" date NOT NULL,
	"target_procedure_online_payment" numeric(5, 4),
	"target_procedure_integration" numeric(5, 4),
	"target_dossier_online_payment" numeric(5, 4),
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "campaigns_days" CHECK ("campaigns"."days" BETWEEN 1 AND 366),
	CONSTRAINT "campaigns_baseline" CHECK ("campaigns"."baseline_from" <= "campaigns"."baseline_to")
);
--> statement-breakpoint
CREATE TABLE "indicator_daily" (
	"received_date" date NOT NULL,
	"agency_code" text NOT NULL,
	"procedure_code" text NOT NULL,
	"dossiers" integer DEFAULT 0 NOT NULL,
	"online_submitted" integer DEFAULT 0 NOT NULL,
	"zero_fee" integer DEFAULT 0 NOT NULL,
	"charged" integer DEFAULT 0 NOT NULL,
	"paid_online" integer DEFAULT 0 NOT NULL,
	"paid_platform" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "indicator_daily_received_date_agency_code_procedure_code_pk" PRIMARY KEY("received_date","agency_code","procedure_code")
);
--> statement-breakpoint
ALTER TABLE "fee_rules" ADD COLUMN "can_charge" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "dossiers" ADD COLUMN "fee_list" text DEFAULT 'none' NOT NULL;--> statement-breakpoint
ALTER TABLE "campaigns" ADD CONSTRAINT "campaigns_agency_code_agencies_code_fk" FOREIGN KEY ("agency_code") REFERENCES "public"."agencies"("code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "campaigns_agency_idx" ON "campaigns" USING btree ("agency_code","start_date");--> statement-breakpoint
CREATE INDEX "indicator_daily_agency_idx" ON "indicator_daily" USING btree ("agency_code","received_date");