ALTER TABLE "reconciliation_items" DROP CONSTRAINT "reconciliation_items_reconciliation_id_reconciliations_id_fk";
--> statement-breakpoint
ALTER TABLE "statement_lines" DROP CONSTRAINT "statement_lines_statement_id_statements_id_fk";
--> statement-breakpoint
ALTER TABLE "reconciliation_items" DROP COLUMN "id";
--> statement-breakpoint
-- A statement's lines name an existing statement, checked once per statement (INSERT … SELECT
-- or COPY of a million lines) instead of once per line: the lines just written, as a transition
-- table, against `statements`, whose rows are locked as a foreign key would lock them (FOR KEY
-- SHARE: not deleted until this transaction ends).
CREATE FUNCTION statement_lines_have_statement() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  named bigint;
  found bigint;
BEGIN
  SELECT count(*) INTO named FROM (SELECT DISTINCT statement_id FROM new_lines) n;
  SELECT count(*) INTO found FROM (
    SELECT s.id FROM statements s WHERE s.id IN (SELECT statement_id FROM new_lines) FOR KEY SHARE OF s
  ) f;
  IF found < named THEN
    RAISE EXCEPTION 'a statement line names a statement that does not exist'
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'statement_lines_statement_id_statements_id_fk';
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER statement_lines_inserted_have_statement AFTER INSERT ON statement_lines
  REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION statement_lines_have_statement();
--> statement-breakpoint
CREATE TRIGGER statement_lines_updated_have_statement AFTER UPDATE ON statement_lines
  REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION statement_lines_have_statement();
--> statement-breakpoint
-- The other half of the key: a statement that still has lines is not deleted.
CREATE FUNCTION statements_deleted_have_no_lines() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM old_statements o JOIN statement_lines l ON l.statement_id = o.id) THEN
    RAISE EXCEPTION 'a statement that has lines cannot be deleted'
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'statement_lines_statement_id_statements_id_fk';
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER statements_deleted_have_no_lines AFTER DELETE ON statements
  REFERENCING OLD TABLE AS old_statements FOR EACH STATEMENT EXECUTE FUNCTION statements_deleted_have_no_lines();
--> statement-breakpoint
-- The same for a day's match items (a million for a million-line statement): each names an
-- existing day, checked once per INSERT.
CREATE FUNCTION reconciliation_items_have_day() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  named bigint;
  found bigint;
BEGIN
  SELECT count(*) INTO named FROM (SELECT DISTINCT reconciliation_id FROM new_items) n;
  SELECT count(*) INTO found FROM (
    SELECT r.id FROM reconciliations r WHERE r.id IN (SELECT reconciliation_id FROM new_items) FOR KEY SHARE OF r
  ) f;
  IF found < named THEN
    RAISE EXCEPTION 'a reconciliation item names a day that does not exist'
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'reconciliation_items_reconciliation_id_reconciliations_id_fk';
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER reconciliation_items_inserted_have_day AFTER INSERT ON reconciliation_items
  REFERENCING NEW TABLE AS new_items FOR EACH STATEMENT EXECUTE FUNCTION reconciliation_items_have_day();
--> statement-breakpoint
CREATE TRIGGER reconciliation_items_updated_have_day AFTER UPDATE ON reconciliation_items
  REFERENCING NEW TABLE AS new_items FOR EACH STATEMENT EXECUTE FUNCTION reconciliation_items_have_day();
--> statement-breakpoint
CREATE FUNCTION reconciliations_deleted_have_no_items() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM old_days o JOIN reconciliation_items i ON i.reconciliation_id = o.id) THEN
    RAISE EXCEPTION 'a day that has match items cannot be deleted'
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'reconciliation_items_reconciliation_id_reconciliations_id_fk';
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER reconciliations_deleted_have_no_items AFTER DELETE ON reconciliations
  REFERENCING OLD TABLE AS old_days FOR EACH STATEMENT EXECUTE FUNCTION reconciliations_deleted_have_no_items();
