ALTER TABLE "statements" ADD COLUMN "lines_counted" integer;--> statement-breakpoint
ALTER TABLE "statements" ADD COLUMN "ignored_total" bigint;--> statement-breakpoint
ALTER TABLE "statements" ADD COLUMN "repeated_transactions" jsonb;--> statement-breakpoint
-- A run's chunks are written once and read whole: compressing their arrays (a few MB for a
-- million lines) cost more than it saved. The intent ids were already kept so (0014).
ALTER TABLE "reconciliation_matches" ALTER COLUMN "line_nos" SET STORAGE EXTERNAL;--> statement-breakpoint
ALTER TABLE "reconciliation_matches" ALTER COLUMN "rules" SET STORAGE EXTERNAL;--> statement-breakpoint
ALTER TABLE "reconciliation_matches" ALTER COLUMN "amounts" SET STORAGE EXTERNAL;
