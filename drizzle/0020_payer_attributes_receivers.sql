ALTER TABLE "dossiers" ADD COLUMN "copies" integer;--> statement-breakpoint
ALTER TABLE "dossiers" ADD COLUMN "payer_categories" text[] DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE "dossiers" ADD COLUMN "vehicle_registration" text;--> statement-breakpoint
ALTER TABLE "dossiers" ADD COLUMN "urban_area" boolean;--> statement-breakpoint
ALTER TABLE "procedures" ADD COLUMN "receiving_levels" text[] DEFAULT '{}' NOT NULL;--> statement-breakpoint
ALTER TABLE "procedures" ADD COLUMN "receiving_units" text[] DEFAULT '{}' NOT NULL;--> statement-breakpoint
-- Hand-added: the one category a dossier had becomes its one-item list before the column goes.
UPDATE "dossiers" SET "payer_categories" = ARRAY["payer_category"] WHERE "payer_category" IS NOT NULL AND "payer_category" <> '';--> statement-breakpoint
ALTER TABLE "dossiers" DROP COLUMN "payer_category";