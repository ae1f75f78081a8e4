/**
 * Finding the hub's payment reference in a bank's credit notification or statement line.
 *
 * Banks rewrite the transfer text the payer's app sent: they strip diacritics and punctuation
 * ('.', '-', spaces), and prepend their own words ('MBVCB.1234.', 'IBFT', 'CT DEN:'). So the text
 * is normalised to A-Z0-9 and every position is tried, since after stripping separators a
 * reference can be glued to the letters or digits around it. Pure: no Node built-ins.
 */
import { REFERENCE_PATTERN } from '../../domain/reference.ts';

/** The hub's reference pattern without its ^…$ anchors: 'HP' + 10 characters of the alphabet. */
const UNANCHORED_REFERENCE_PATTERN = new RegExp(REFERENCE_PATTERN.source.replace(/^\^/, '').replace(/\$$/, ''));

/** Characters that are dropped without counting as a separator: combining marks (diacritics). */
const COMBINING_MARK = /\p{M}/u;
const KEPT = /^[A-Z0-9]$/;

interface Normalised {
  text: string;
  /** For each character of `text`: was at least one separator dropped right before it (or is it first)? */
  boundaryBefore: boolean[];
}

function normaliseWithBoundaries(input: string): Normalised {
  // đ/Đ have no decomposition: map them first; then NFD splits the other letters from their marks.
  const decomposed = input.replace(/[đĐ]/g, 'D').normalize('NFD');
  let text = '';
  const boundaryBefore: boolean[] = [];
  let separatorPending = true;
  for (const codePoint of decomposed) {
    if (COMBINING_MARK.test(codePoint)) continue;
    const upper = codePoint.toUpperCase();
    let keptAny = false;
    for (const char of upper) {
      if (KEPT.test(char)) {
        text += char;
        boundaryBefore.push(separatorPending && !keptAny);
        keptAny = true;
      }
    }
    separatorPending = !keptAny;
  }
  return { text, boundaryBefore };
}

/**
 * Upper-case, Vietnamese diacritics stripped (đ → D), everything but A-Z and 0-9 dropped:
 * 'Nguyễn Văn Đức - HP7K...' → 'NGUYENVANDUCHP7K...'.
 */
export function normaliseTransferText(text: string): string {
  return normaliseWithBoundaries(text).text;
}

export interface ReferenceMatch {
  reference: string;
  /** Index in the normalised text. */
  index: number;
  /** Separated from its neighbours in the original text (or at its start/end) on both sides. */
  exact: boolean;
}

/**
 * Every place in the normalised text where `pattern` matches, overlapping ones included, each
 * marked exact when the original text had a separator (or its start/end) on both sides of it.
 */
export function findReferenceMatches(text: string, pattern: RegExp = UNANCHORED_REFERENCE_PATTERN): ReferenceMatch[] {
  const { text: normalised, boundaryBefore } = normaliseWithBoundaries(text);
  const sticky = new RegExp(pattern.source, `${pattern.flags.replace(/[gy]/g, '')}y`);
  const matches: ReferenceMatch[] = [];
  for (let index = 0; index < normalised.length; index += 1) {
    sticky.lastIndex = index;
    const found = sticky.exec(normalised);
    if (!found || found[0].length === 0) continue;
    const end = index + found[0].length;
    const exact = (boundaryBefore[index] ?? true) && (end === normalised.length || (boundaryBefore[end] ?? true));
    matches.push({ reference: found[0], index, exact });
  }
  return matches;
}

/**
 * The hub references found in a bank's transfer text, unique: exact matches (standing apart in
 * the original text) first, then glued candidates, each group in order of position. Nothing is
 * dropped — a glued candidate may be the real one when a bank inserted a separator inside the
 * reference — so the caller looks every candidate up; a reference carries 50 random bits, so a
 * false candidate will not name an existing intent.
 */
export function findReferences(text: string, pattern: RegExp = UNANCHORED_REFERENCE_PATTERN): string[] {
  const matches = findReferenceMatches(text, pattern);
  const ordered = [...matches.filter((match) => match.exact), ...matches.filter((match) => !match.exact)];
  return [...new Set(ordered.map((match) => match.reference))];
}
