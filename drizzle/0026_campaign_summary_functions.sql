-- Campaign summaries (services/campaign-summaries.ts): every change to the roll-ups is also
-- written as a delta, with its transaction, so that a summary made at a snapshot plus the deltas
-- that snapshot does not see is exactly what the roll-ups hold now.
CREATE OR REPLACE FUNCTION indicator_daily_apply(day date, agency text, proc text, n integer, online integer, zero integer,
                                                 charged integer, paid integer, platform integer) RETURNS void
LANGUAGE sql AS $$
  INSERT INTO indicator_daily AS r (received_date, agency_code, procedure_code, dossiers, online_submitted, zero_fee, charged,
                                    paid_online, paid_platform)
  VALUES (day, agency, proc, n, online, zero, charged, paid, platform)
  ON CONFLICT (received_date, agency_code, procedure_code) DO UPDATE SET
    dossiers = r.dossiers + EXCLUDED.dossiers,
    online_submitted = r.online_submitted + EXCLUDED.online_submitted,
    zero_fee = r.zero_fee + EXCLUDED.zero_fee,
    charged = r.charged + EXCLUDED.charged,
    paid_online = r.paid_online + EXCLUDED.paid_online,
    paid_platform = r.paid_platform + EXCLUDED.paid_platform;
  INSERT INTO indicator_deltas (received_date, agency_code, procedure_code, dossiers, zero_fee, charged, paid_online)
  SELECT day, agency, proc, n, zero, charged, paid
  WHERE n <> 0 OR zero <> 0 OR charged <> 0 OR paid <> 0;
$$;
--> statement-breakpoint
-- A rebuild rewrites the roll-ups without deltas: every summary is made again from them. Dossier
-- writes wait on its lock meanwhile, so no delta is being written.
CREATE OR REPLACE FUNCTION indicator_daily_rebuild(from_date date DEFAULT NULL, to_date date DEFAULT NULL,
                                                   OUT fee_lists_fixed bigint, OUT rows bigint)
LANGUAGE plpgsql AS $$
BEGIN
  LOCK TABLE dossiers IN SHARE ROW EXCLUSIVE MODE;
  UPDATE dossiers SET fee_list = dossier_fee_list(code)
  WHERE (from_date IS NULL OR received_date >= from_date) AND (to_date IS NULL OR received_date <= to_date)
    AND fee_list IS DISTINCT FROM dossier_fee_list(code);
  GET DIAGNOSTICS fee_lists_fixed = ROW_COUNT;
  DELETE FROM indicator_daily
  WHERE (from_date IS NULL OR received_date >= from_date) AND (to_date IS NULL OR received_date <= to_date);
  INSERT INTO indicator_daily (received_date, agency_code, procedure_code, dossiers, online_submitted, zero_fee, charged,
                               paid_online, paid_platform)
  SELECT d.received_date, d.agency_code, d.procedure_code, count(*), sum(c.online_submitted), sum(c.zero_fee), sum(c.charged),
         sum(c.paid_online), sum(c.paid_platform)
  FROM dossiers d CROSS JOIN LATERAL indicator_counts(d) c
  WHERE (from_date IS NULL OR d.received_date >= from_date) AND (to_date IS NULL OR d.received_date <= to_date)
  GROUP BY d.received_date, d.agency_code, d.procedure_code;
  GET DIAGNOSTICS rows = ROW_COUNT;
  DELETE FROM campaign_summaries;
  DELETE FROM indicator_deltas;
END
$$;
--> statement-breakpoint
-- What a summary counts depends on the catalogue (fee-bearing rules, who receives a procedure),
-- the agency tree and the campaign's days: a change to any of them drops the summaries, which the
-- next progress request or the jobs make again.
CREATE FUNCTION campaign_summaries_drop() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM campaign_summaries;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER fee_rules_campaign_summaries AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON fee_rules
FOR EACH STATEMENT EXECUTE FUNCTION campaign_summaries_drop();
--> statement-breakpoint
CREATE TRIGGER procedures_campaign_summaries AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON procedures
FOR EACH STATEMENT EXECUTE FUNCTION campaign_summaries_drop();
--> statement-breakpoint
CREATE TRIGGER agencies_campaign_summaries AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON agencies
FOR EACH STATEMENT EXECUTE FUNCTION campaign_summaries_drop();
--> statement-breakpoint
CREATE TRIGGER campaigns_campaign_summaries AFTER UPDATE ON campaigns
FOR EACH STATEMENT EXECUTE FUNCTION campaign_summaries_drop();
