/**
 * Business dates are Vietnamese dates (invariant 7). Vietnam has kept UTC+7 without daylight
 * saving since 1975, so the offset is a constant and no time-zone database is needed (Workers
 * and Node agree).
 */
const VN_OFFSET_MS = 7 * 60 * 60 * 1000;

/** The calendar date in Asia/Ho_Chi_Minh of an instant, as YYYY-MM-DD. */
export function vnDate(instant: Date): string {
  return new Date(instant.getTime() + VN_OFFSET_MS).toISOString().slice(0, 10);
}

/** `yyyyMMddHHmmss` in GMT+7, the timestamp format of Vietnamese gateways. */
export function vnCompactTimestamp(instant: Date): string {
  const s = new Date(instant.getTime() + VN_OFFSET_MS).toISOString();
  return s.slice(0, 19).replace(/[-T:]/g, '');
}

/** dd/MM/yyyy, the way a Vietnamese receipt prints a date. */
export function vnDisplayDate(date: string): string {
  const [y, m, d] = date.split('-');
  return `${d}/${m}/${y}`;
}

/** The instant a Vietnamese calendar date starts. */
export function vnDayStart(date: string): Date {
  return new Date(new Date(`${date}T00:00:00Z`).getTime() - VN_OFFSET_MS);
}

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}
