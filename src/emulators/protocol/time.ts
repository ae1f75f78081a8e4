/**
 * The channels' timestamps: yyyyMMddHHmmss on Vietnam's wall clock (VNPay's vnp_PayDate, the
 * platform's ThoiGianGD, a bank's transfer time), computed by Intl, apart from the hub's
 * offset arithmetic (src/domain/dates.ts).
 */

/** yyyyMMddHHmmss in Vietnam's time zone, by Intl rather than by offset arithmetic. */
export function gmt7(date: Date): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone: 'Asia/Ho_Chi_Minh',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}${parts.month}${parts.day}${parts.hour}${parts.minute}${parts.second}`;
}

/** yyyyMMddHHmmss in Vietnam's time → the instant, or null when it is no real time of that shape. */
export function fromGmt7(text: string | undefined): Date | null {
  const m = text === undefined ? null : /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(text);
  if (!m) return null;
  const date = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}+07:00`);
  // Formatted back, so 31 November or 25:00 are refused rather than rolled over.
  return !Number.isNaN(date.getTime()) && gmt7(date) === text ? date : null;
}
