/**
 * An amount of VND in Vietnamese words, as receipts print it (Decree 123/2020, Art. 32):
 * 135.000 → "Một trăm ba mươi lăm nghìn đồng". Groups of three digits are read left to right;
 * an all-zero group is skipped, an inner group with no hundreds reads "không trăm", a zero tens
 * digit before a unit reads "linh", and "mốt", "tư", "lăm" follow the usual rules.
 */
const digits = ['không', 'một', 'hai', 'ba', 'bốn', 'năm', 'sáu', 'bảy', 'tám', 'chín'] as const;

function readTriple(n: number, full: boolean): string {
  const h = Math.floor(n / 100);
  const t = Math.floor((n % 100) / 10);
  const u = n % 10;
  const parts: string[] = [];
  if (full || h > 0) parts.push(`${digits[h]} trăm`);
  if (t === 0) {
    if (u > 0 && parts.length > 0) parts.push('linh');
  } else if (t === 1) {
    parts.push('mười');
  } else {
    parts.push(`${digits[t]} mươi`);
  }
  if (u > 0) {
    if (u === 1 && t >= 2) parts.push('mốt');
    else if (u === 5 && t >= 1) parts.push('lăm');
    else if (u === 4 && t >= 2) parts.push('tư');
    else parts.push(digits[u]!);
  }
  return parts.join(' ');
}

const scales = ['', 'nghìn', 'triệu'] as const;

/** Reads n < 10^9 in groups; `leading` tells whether nothing precedes it. */
function readBelowBillion(n: number, leading: boolean): string[] {
  const groups = [Math.floor(n / 1_000_000), Math.floor((n % 1_000_000) / 1000), n % 1000];
  const words: string[] = [];
  groups.forEach((g, i) => {
    if (g === 0) return;
    const full = !(leading && words.length === 0);
    const scale = scales[2 - i]!;
    words.push(scale ? `${readTriple(g, full)} ${scale}` : readTriple(g, full));
  });
  return words;
}

function readNumber(n: number, leading: boolean): string[] {
  if (n >= 1_000_000_000) {
    const billions = Math.floor(n / 1_000_000_000);
    const rest = n % 1_000_000_000;
    const words = [...readNumber(billions, leading), 'tỷ'];
    return rest > 0 ? [...words, ...readBelowBillion(rest, false)] : words;
  }
  return readBelowBillion(n, leading);
}

export function amountInWords(amount: number): string {
  if (!Number.isSafeInteger(amount) || amount < 0) throw new RangeError('amount must be a non-negative integer');
  const text = amount === 0 ? 'không' : readNumber(amount, true).join(' ');
  return `${text.charAt(0).toUpperCase()}${text.slice(1)} đồng`;
}
