-- Receipts as Decree 254/2026/NĐ-CP and Circular 91/2026/TT-BTC ask (in force since 1 July 2026).
ALTER TABLE "agencies" ADD COLUMN "address" text;--> statement-breakpoint
ALTER TABLE "agencies" ADD COLUMN "tax_code" text;--> statement-breakpoint
ALTER TABLE "agencies" ADD COLUMN "receipt_delegation" text;--> statement-breakpoint
-- A series carries its year: the counters of receipts issued so far belong to the year of their last receipt.
ALTER TABLE "receipt_series" ADD COLUMN "year" integer;--> statement-breakpoint
UPDATE "receipt_series" s SET "year" = coalesce(
  (SELECT max(extract(year FROM r.issued_date))::integer FROM receipts r
   WHERE r.agency_code = s.agency_code AND r.form_symbol = s.form_symbol AND r.series_symbol = s.series_symbol),
  extract(year FROM now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::integer);--> statement-breakpoint
ALTER TABLE "receipt_series" ALTER COLUMN "year" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "receipt_series" DROP CONSTRAINT "receipt_series_agency_code_form_symbol_series_symbol_pk";--> statement-breakpoint
ALTER TABLE "receipt_series" ADD CONSTRAINT "receipt_series_agency_code_form_symbol_series_symbol_year_pk" PRIMARY KEY("agency_code","form_symbol","series_symbol","year");--> statement-breakpoint
ALTER TABLE "receipts" ADD COLUMN "collector_address" text;--> statement-breakpoint
ALTER TABLE "receipts" ADD COLUMN "collector_tax_code" text;--> statement-breakpoint
ALTER TABLE "receipts" ADD COLUMN "issuer" jsonb;--> statement-breakpoint
ALTER TABLE "receipts" ADD COLUMN "lookup_code" text;--> statement-breakpoint
-- Receipts issued before get a look-up code too (80 random bits, as new ones have).
UPDATE "receipts" SET "lookup_code" = upper(substr(md5(gen_random_uuid()::text || id::text), 1, 20));--> statement-breakpoint
ALTER TABLE "receipts" ALTER COLUMN "lookup_code" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "receipts" ADD COLUMN "signing_kid" text;--> statement-breakpoint
ALTER TABLE "receipts" ADD COLUMN "xml" text;--> statement-breakpoint
CREATE UNIQUE INDEX "receipts_lookup_code_idx" ON "receipts" USING btree ("lookup_code");--> statement-breakpoint
DROP INDEX "receipts_series_number_idx";--> statement-breakpoint
CREATE UNIQUE INDEX "receipts_series_number_idx" ON "receipts" USING btree ("agency_code","form_symbol","series_symbol",(extract(year FROM "issued_date")::integer),"number");--> statement-breakpoint
-- A receipt is never edited: only its signatures are written, once, after the paying transaction commits.
CREATE FUNCTION receipts_never_edited() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (to_jsonb(NEW) - 'signature' - 'signing_kid' - 'xml') IS DISTINCT FROM (to_jsonb(OLD) - 'signature' - 'signing_kid' - 'xml')
     OR (OLD.signature IS NOT NULL AND NEW.signature IS DISTINCT FROM OLD.signature)
     OR (OLD.xml IS NOT NULL AND NEW.xml IS DISTINCT FROM OLD.xml)
     OR (OLD.signing_kid IS NOT NULL AND NEW.signing_kid IS DISTINCT FROM OLD.signing_kid) THEN
    RAISE EXCEPTION 'receipt % is issued: it is never edited (an adjusting or replacing receipt corrects it)', OLD.id USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END $$;--> statement-breakpoint
CREATE TRIGGER receipts_never_edited BEFORE UPDATE ON "receipts" FOR EACH ROW EXECUTE FUNCTION receipts_never_edited();
