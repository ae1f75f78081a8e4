DROP INDEX "webhook_deliveries_due_idx";--> statement-breakpoint
CREATE INDEX "webhook_deliveries_pending_seq_idx" ON "webhook_deliveries" USING btree ("event_seq") WHERE state = 'pending';--> statement-breakpoint
CREATE INDEX "webhook_deliveries_leased_idx" ON "webhook_deliveries" USING btree ("endpoint_id","leased_until") WHERE state = 'pending' AND leased_until IS NOT NULL;