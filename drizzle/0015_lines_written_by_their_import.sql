-- A statement's lines are written by its import alone (statement-copy.ts, and statements.ts's
-- writeLines), which first takes its `importing` statement row FOR KEY SHARE in the same
-- transaction (statement-lines-key.ts): the row cannot go while the lines are written, and lines
-- of no statement are refused there. The insert-side check of 0013 did the same a second time at
-- the cost of its transition table: a million-line import copied every line into it once more,
-- then counted them (0.7-0.9 s of a 5-6 s import on the benchmark's machine). The update-side
-- check and the delete-side one (a statement with lines is not deleted) stay.
DROP TRIGGER statement_lines_inserted_have_statement ON statement_lines;
