ALTER TABLE "statements" ADD COLUMN "lines_counted" integer;--> statement-breakpoint
ALTER TABLE "statements" ADD COLUMN "ignored_total" bigint;--> statement-breakpoint
ALTER TABLE "statements" ADD COLUMN "repeated_transactions" jsonb;