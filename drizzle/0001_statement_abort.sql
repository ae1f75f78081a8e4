-- hub_abort(code) raises an error from inside a single SQL statement, so a multi-step write
-- written as one statement (data-modifying CTEs) can refuse itself whole: every change the
-- statement made is undone, and the caller maps the code to its answer. VOLATILE, so the
-- planner never evaluates it ahead of the condition that guards it.
CREATE FUNCTION hub_abort(code text) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'P0001', MESSAGE = code;
END
$$;
