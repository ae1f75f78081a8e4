import { sql } from 'drizzle-orm';
import { expect } from 'vitest';
import { type Database, queryRows } from '../../src/db/types.ts';

/** Waits until no receipt waits for its number (the issuer runs in the background), at most `ms`. */
export async function waitForReceipts(db: Database, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const [row] = await queryRows<{ n: number }>(db, sql`SELECT count(*)::int AS n FROM receipt_requests`);
    if (Number(row!.n) === 0) return;
    if (Date.now() > deadline) throw new Error(`${row!.n} receipts still waiting for their number after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Every series numbers 1, 2, … without a gap or a repeat, and its counter stands at its last
 * number (Decree 254/2026 Art. 23); every paid intent with an e-receipt has exactly one original.
 */
export async function expectGaplessReceipts(db: Database): Promise<void> {
  const series = await queryRows<{
    series: string;
    n: number;
    distinct_numbers: number;
    lowest: number;
    highest: number;
    counter: number | null;
  }>(
    db,
    sql`WITH numbered AS (
          SELECT agency_code, form_symbol, series_symbol, extract(year FROM issued_date)::int AS year, number FROM receipts
        ), series AS (
          SELECT agency_code, form_symbol, series_symbol, year, count(*)::int AS n, count(DISTINCT number)::int AS distinct_numbers,
                 min(number) AS lowest, max(number) AS highest
          FROM numbered GROUP BY agency_code, form_symbol, series_symbol, year
        )
        SELECT s.agency_code || ' ' || s.form_symbol || ' ' || s.series_symbol || ' ' || s.year AS series, s.n, s.distinct_numbers, s.lowest,
               s.highest, c.last_number AS counter
        FROM series s LEFT JOIN receipt_series c
          ON c.agency_code = s.agency_code AND c.form_symbol = s.form_symbol AND c.series_symbol = s.series_symbol AND c.year = s.year`,
  );
  const wrong = series.filter(
    (s) => s.n !== s.distinct_numbers || Number(s.lowest) !== 1 || Number(s.highest) !== s.n || Number(s.counter) !== s.n,
  );
  expect(wrong, 'series with a gap, a repeat or a counter astray').toEqual([]);
  const [twice] = await queryRows<{ n: number }>(
    db,
    sql`SELECT count(*)::int AS n FROM (SELECT intent_id FROM receipts WHERE kind = 'original' GROUP BY intent_id HAVING count(*) > 1) x`,
  );
  expect(Number(twice!.n), 'intents with two original receipts').toBe(0);
}
