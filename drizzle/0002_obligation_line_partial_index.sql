-- The schema's unique (dossier, line) index is partial (status <> 'void'), but 0000_init created it
-- whole: recomputing a dossier's obligations (old lines voided, new ones inserted with the same
-- line numbers) failed on it with a 500. The plain dossier index of the schema was missing too.
DROP INDEX "obligations_dossier_line_idx";--> statement-breakpoint
CREATE INDEX "obligations_dossier_idx" ON "obligations" USING btree ("dossier_code");--> statement-breakpoint
CREATE UNIQUE INDEX "obligations_dossier_line_idx" ON "obligations" USING btree ("dossier_code","line_no") WHERE "obligations"."status" <> 'void';