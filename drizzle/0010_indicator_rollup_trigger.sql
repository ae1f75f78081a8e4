-- 766 indicator roll-ups (src/db/schema/indicators.ts), kept by triggers so that every writer
-- (registration, fee recomputation, the paying statement, a correction made by hand in SQL)
-- updates them in its own transaction, with nothing to forget: obligations keep their dossier's
-- fee list, and dossiers keep the roll-ups.

-- Existing rules: whether each can ask for money (the same test as domain/fees.ts canCharge;
-- new and edited rules get it from there).
UPDATE fee_rules SET can_charge = (
  CASE formula->>'type'
    WHEN 'fixed' THEN (formula->>'amount')::numeric > 0
    WHEN 'per_unit' THEN jsonb_path_exists(formula, '$.tiers[*] ? (@.unitAmount > 0)') AND coalesce((formula->>'cap')::numeric, 1) <> 0
    WHEN 'percentage' THEN ((formula->>'rate')::numeric > 0 OR coalesce((formula->>'minimum')::numeric, 0) > 0)
                           AND coalesce((formula->>'maximum')::numeric, 1) <> 0
    WHEN 'table' THEN jsonb_path_exists(formula, '$.rows[*] ? (@.amount > 0)')
    ELSE false
  END
  OR jsonb_path_exists(adjustments, '$[*] ? (@.effect.type == "amount" && @.effect.amount > 0)')
);
--> statement-breakpoint
-- A dossier's fee list as the portal sees it, from its obligations: no line, every line priced
-- 0 (out of indicator c), or some line charged.
CREATE FUNCTION dossier_fee_list(dossier text) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN EXISTS (SELECT 1 FROM obligations o WHERE o.dossier_code = dossier AND o.status <> 'void' AND o.amount > 0) THEN 'charged'
    WHEN EXISTS (SELECT 1 FROM obligations o WHERE o.dossier_code = dossier AND o.status <> 'void') THEN 'zero'
    ELSE 'none'
  END
$$;
--> statement-breakpoint
UPDATE dossiers SET fee_list = dossier_fee_list(code);
--> statement-breakpoint
ALTER TABLE dossiers ADD CONSTRAINT dossiers_fee_list_check CHECK (fee_list IN ('none', 'zero', 'charged'));
--> statement-breakpoint
-- Adds one dossier's counts (or takes them away, with negative ones) to its day's row.
CREATE FUNCTION indicator_daily_apply(day date, agency text, proc text, n integer, online integer, zero integer,
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
    paid_platform = r.paid_platform + EXCLUDED.paid_platform
$$;
--> statement-breakpoint
-- What one dossier counts for: the one definition, read by the trigger and by the rebuild. A
-- dossier priced all zero is never counted paid online: c's numerator stays inside its denominator.
CREATE FUNCTION indicator_counts(d dossiers)
RETURNS TABLE (online_submitted integer, zero_fee integer, charged integer, paid_online integer, paid_platform integer)
LANGUAGE sql IMMUTABLE AS $$
  SELECT (d.channel = 'online')::int,
         (d.fee_list = 'zero')::int,
         (d.fee_list = 'charged')::int,
         (d.online_payment_flag IN (1, 2) AND d.fee_list <> 'zero')::int,
         (d.online_payment_flag = 1 AND d.fee_list <> 'zero')::int
$$;
--> statement-breakpoint
CREATE FUNCTION dossiers_indicator_daily() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  o record;
  n record;
BEGIN
  IF TG_OP <> 'INSERT' THEN SELECT * INTO o FROM indicator_counts(OLD); END IF;
  IF TG_OP <> 'DELETE' THEN SELECT * INTO n FROM indicator_counts(NEW); END IF;
  IF TG_OP = 'UPDATE'
     AND (OLD.received_date, OLD.agency_code, OLD.procedure_code) = (NEW.received_date, NEW.agency_code, NEW.procedure_code) THEN
    -- The usual case (a payment sets the flag): one row, changed by the difference.
    PERFORM indicator_daily_apply(NEW.received_date, NEW.agency_code, NEW.procedure_code, 0,
      n.online_submitted - o.online_submitted, n.zero_fee - o.zero_fee, n.charged - o.charged,
      n.paid_online - o.paid_online, n.paid_platform - o.paid_platform);
    RETURN NULL;
  END IF;
  -- A new dossier, a deleted one, or one moved to another day, unit or procedure. Two rows are
  -- locked in key order, so two moves in opposite directions cannot deadlock.
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE'
     AND (OLD.received_date, OLD.agency_code, OLD.procedure_code) < (NEW.received_date, NEW.agency_code, NEW.procedure_code)) THEN
    PERFORM indicator_daily_apply(OLD.received_date, OLD.agency_code, OLD.procedure_code, -1,
      -o.online_submitted, -o.zero_fee, -o.charged, -o.paid_online, -o.paid_platform);
  END IF;
  IF TG_OP <> 'DELETE' THEN
    PERFORM indicator_daily_apply(NEW.received_date, NEW.agency_code, NEW.procedure_code, 1,
      n.online_submitted, n.zero_fee, n.charged, n.paid_online, n.paid_platform);
  END IF;
  IF TG_OP = 'UPDATE'
     AND (OLD.received_date, OLD.agency_code, OLD.procedure_code) > (NEW.received_date, NEW.agency_code, NEW.procedure_code) THEN
    PERFORM indicator_daily_apply(OLD.received_date, OLD.agency_code, OLD.procedure_code, -1,
      -o.online_submitted, -o.zero_fee, -o.charged, -o.paid_online, -o.paid_platform);
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER dossiers_indicator_daily_insert AFTER INSERT ON dossiers
FOR EACH ROW EXECUTE FUNCTION dossiers_indicator_daily();
--> statement-breakpoint
CREATE TRIGGER dossiers_indicator_daily_update AFTER UPDATE ON dossiers
FOR EACH ROW
WHEN ((OLD.received_date, OLD.agency_code, OLD.procedure_code, OLD.channel, OLD.fee_list, OLD.online_payment_flag)
      IS DISTINCT FROM (NEW.received_date, NEW.agency_code, NEW.procedure_code, NEW.channel, NEW.fee_list, NEW.online_payment_flag))
EXECUTE FUNCTION dossiers_indicator_daily();
--> statement-breakpoint
CREATE TRIGGER dossiers_indicator_daily_delete AFTER DELETE ON dossiers
FOR EACH ROW EXECUTE FUNCTION dossiers_indicator_daily();
--> statement-breakpoint
-- An obligation added, voided, repriced or removed: its dossier's fee list follows (and with
-- it the roll-ups, by the trigger above). Paying or refunding a line changes neither.
CREATE FUNCTION obligations_fee_list() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    UPDATE dossiers SET fee_list = dossier_fee_list(code) WHERE code = OLD.dossier_code AND fee_list IS DISTINCT FROM dossier_fee_list(code);
  END IF;
  IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.dossier_code <> OLD.dossier_code) THEN
    UPDATE dossiers SET fee_list = dossier_fee_list(code) WHERE code = NEW.dossier_code AND fee_list IS DISTINCT FROM dossier_fee_list(code);
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER obligations_fee_list_insert AFTER INSERT ON obligations
FOR EACH ROW EXECUTE FUNCTION obligations_fee_list();
--> statement-breakpoint
CREATE TRIGGER obligations_fee_list_update AFTER UPDATE OF status, amount, dossier_code ON obligations
FOR EACH ROW
WHEN ((OLD.status = 'void') IS DISTINCT FROM (NEW.status = 'void') OR OLD.amount <> NEW.amount OR OLD.dossier_code <> NEW.dossier_code)
EXECUTE FUNCTION obligations_fee_list();
--> statement-breakpoint
CREATE TRIGGER obligations_fee_list_delete AFTER DELETE ON obligations
FOR EACH ROW EXECUTE FUNCTION obligations_fee_list();
--> statement-breakpoint
-- Recounts the roll-ups from the dossiers (all of them, or the receipt dates given), after
-- setting every fee list from its obligations: after a bulk load with the triggers off, or to
-- repair. Dossier writes wait while it runs (SHARE ROW EXCLUSIVE: readers go on, a second
-- rebuild waits for the first), so nothing is counted twice or missed.
CREATE FUNCTION indicator_daily_rebuild(from_date date DEFAULT NULL, to_date date DEFAULT NULL,
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
END
$$;
--> statement-breakpoint
SELECT indicator_daily_rebuild();
