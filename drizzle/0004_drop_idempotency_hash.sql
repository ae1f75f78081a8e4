-- Keys stored before 0003 keep their hash as fingerprint: a retry of such a request within its
-- 24-hour lifetime is then refused as a different body (409), never executed twice.
UPDATE "idempotency_keys" SET "request_fingerprint" = 'sha256:' || "request_hash" WHERE "request_fingerprint" IS NULL;--> statement-breakpoint
ALTER TABLE "idempotency_keys" ALTER COLUMN "request_fingerprint" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "idempotency_keys" DROP COLUMN "request_hash";
