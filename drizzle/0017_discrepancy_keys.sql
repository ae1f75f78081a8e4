ALTER TABLE "discrepancies" DROP CONSTRAINT "discrepancies_reconciliation_id_reconciliations_id_fk";
--> statement-breakpoint
ALTER TABLE "discrepancies" DROP CONSTRAINT "discrepancies_intent_id_payment_intents_id_fk";
--> statement-breakpoint
ALTER TABLE "discrepancies" DROP CONSTRAINT "discrepancies_review_id_payment_reviews_id_fk";
--> statement-breakpoint
-- The three keys of a discrepancy, checked once per statement (the run writes a day's
-- discrepancies in one INSERT … ON CONFLICT) by 0013's parents_exist / children_absent: the rows
-- written, as a transition table, against each parent, locked FOR KEY SHARE as a key locks it.
CREATE TRIGGER discrepancies_inserted_have_day AFTER INSERT ON discrepancies REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION parents_exist('reconciliations', 'reconciliation_id', 'discrepancies_reconciliation_id_reconciliations_id_fk');
--> statement-breakpoint
CREATE TRIGGER discrepancies_updated_have_day AFTER UPDATE ON discrepancies REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION parents_exist('reconciliations', 'reconciliation_id', 'discrepancies_reconciliation_id_reconciliations_id_fk');
--> statement-breakpoint
CREATE TRIGGER discrepancies_inserted_have_intent AFTER INSERT ON discrepancies REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION parents_exist('payment_intents', 'intent_id', 'discrepancies_intent_id_payment_intents_id_fk');
--> statement-breakpoint
CREATE TRIGGER discrepancies_updated_have_intent AFTER UPDATE ON discrepancies REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION parents_exist('payment_intents', 'intent_id', 'discrepancies_intent_id_payment_intents_id_fk');
--> statement-breakpoint
CREATE TRIGGER discrepancies_inserted_have_review AFTER INSERT ON discrepancies REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION parents_exist('payment_reviews', 'review_id', 'discrepancies_review_id_payment_reviews_id_fk');
--> statement-breakpoint
CREATE TRIGGER discrepancies_updated_have_review AFTER UPDATE ON discrepancies REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION parents_exist('payment_reviews', 'review_id', 'discrepancies_review_id_payment_reviews_id_fk');
--> statement-breakpoint
CREATE TRIGGER reconciliations_deleted_have_no_discrepancies AFTER DELETE ON reconciliations REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION children_absent('discrepancies', 'reconciliation_id', 'discrepancies_reconciliation_id_reconciliations_id_fk');
--> statement-breakpoint
CREATE TRIGGER payment_intents_deleted_have_no_discrepancies AFTER DELETE ON payment_intents REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION children_absent('discrepancies', 'intent_id', 'discrepancies_intent_id_payment_intents_id_fk');
--> statement-breakpoint
CREATE TRIGGER payment_reviews_deleted_have_no_discrepancies AFTER DELETE ON payment_reviews REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION children_absent('discrepancies', 'review_id', 'discrepancies_review_id_payment_reviews_id_fk');
