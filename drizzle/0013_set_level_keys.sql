ALTER TABLE "reconciliation_items" DROP CONSTRAINT "reconciliation_items_reconciliation_id_reconciliations_id_fk";
--> statement-breakpoint
ALTER TABLE "statement_lines" DROP CONSTRAINT "statement_lines_statement_id_statements_id_fk";
--> statement-breakpoint
ALTER TABLE "reconciliation_items" DROP COLUMN "id";
--> statement-breakpoint
-- A statement's lines name an existing statement, and a day's match items an existing day, checked
-- once per statement (an INSERT … SELECT or COPY of a million rows) instead of once per row: the
-- rows just written, as a transition table, against the parent table, whose rows are locked as a
-- foreign key would lock them (FOR KEY SHARE: not deleted until this transaction ends).
-- Arguments: the parent table, the rows' column naming it, the constraint name errors carry.
CREATE FUNCTION parents_exist() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  named bigint;
  found bigint;
BEGIN
  EXECUTE format('SELECT count(DISTINCT %I) FROM new_rows', TG_ARGV[1]) INTO named;
  EXECUTE format('SELECT count(*) FROM (SELECT p.id FROM %I p WHERE p.id IN (SELECT %I FROM new_rows) FOR KEY SHARE OF p) f',
                 TG_ARGV[0], TG_ARGV[1]) INTO found;
  IF found < named THEN
    RAISE EXCEPTION 'a row of % names a % row that does not exist', TG_TABLE_NAME, TG_ARGV[0]
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = TG_ARGV[2];
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
-- The other half of a key: a parent row that still has rows naming it is not deleted.
-- Arguments: the child table, its column naming the parent, the constraint name errors carry.
CREATE FUNCTION children_absent() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  named boolean;
BEGIN
  EXECUTE format('SELECT EXISTS (SELECT 1 FROM old_rows o JOIN %I c ON c.%I = o.id)', TG_ARGV[0], TG_ARGV[1]) INTO named;
  IF named THEN
    RAISE EXCEPTION 'a % row that % rows name cannot be deleted', TG_TABLE_NAME, TG_ARGV[0]
      USING ERRCODE = 'foreign_key_violation', CONSTRAINT = TG_ARGV[2];
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER statement_lines_inserted_have_statement AFTER INSERT ON statement_lines REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION parents_exist('statements', 'statement_id', 'statement_lines_statement_id_statements_id_fk');
--> statement-breakpoint
CREATE TRIGGER statement_lines_updated_have_statement AFTER UPDATE ON statement_lines REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION parents_exist('statements', 'statement_id', 'statement_lines_statement_id_statements_id_fk');
--> statement-breakpoint
CREATE TRIGGER statements_deleted_have_no_lines AFTER DELETE ON statements REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION children_absent('statement_lines', 'statement_id', 'statement_lines_statement_id_statements_id_fk');
--> statement-breakpoint
CREATE TRIGGER reconciliation_items_inserted_have_day AFTER INSERT ON reconciliation_items REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION parents_exist('reconciliations', 'reconciliation_id', 'reconciliation_items_reconciliation_id_reconciliations_id_fk');
--> statement-breakpoint
CREATE TRIGGER reconciliation_items_updated_have_day AFTER UPDATE ON reconciliation_items REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION parents_exist('reconciliations', 'reconciliation_id', 'reconciliation_items_reconciliation_id_reconciliations_id_fk');
--> statement-breakpoint
CREATE TRIGGER reconciliations_deleted_have_no_items AFTER DELETE ON reconciliations REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION children_absent('reconciliation_items', 'reconciliation_id', 'reconciliation_items_reconciliation_id_reconciliations_id_fk');
