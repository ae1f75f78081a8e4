/**
 * Content negotiation between the two representations the hub has for people and programs:
 * HTML pages and JSON (problem+json for errors).
 *
 * The one rule: HTML goes only to a client that accepts it, and then when the client ranks it
 * above JSON, or ranks both the same (no Accept header, or a wildcard alone) on a route whose default is
 * HTML. So the receipt (default JSON) is a page only when asked for one, as a browser asks; the
 * dashboard (default HTML) is a page to anything but a client that prefers JSON.
 */
export function wantsHtml(accept: string | undefined, routeDefault: 'html' | 'json'): boolean {
  const ranges = parseAccept(accept?.trim() || '*/*');
  const html = quality(ranges, 'text/html');
  const json = Math.max(quality(ranges, 'application/json'), quality(ranges, 'application/problem+json'));
  if (html === 0) return false;
  return html > json || (html === json && routeDefault === 'html');
}

interface MediaRange {
  type: string;
  subtype: string;
  q: number;
}

function parseAccept(accept: string): MediaRange[] {
  return accept.split(',').flatMap((part) => {
    const [range = '', ...params] = part.split(';').map((p) => p.trim());
    const [type, subtype] = range.toLowerCase().split('/');
    if (!type || !subtype) return [];
    const qParam = params.find((p) => /^q\s*=/i.test(p));
    const q = qParam === undefined ? 1 : Number(qParam.slice(qParam.indexOf('=') + 1).trim());
    return [{ type, subtype, q: Number.isFinite(q) ? Math.min(Math.max(q, 0), 1) : 0 }];
  });
}

/** The q of the most specific range that matches (RFC 9110 §12.5.1); 0 when none does. */
function quality(ranges: MediaRange[], mediaType: string): number {
  const [type, subtype] = mediaType.split('/');
  const specificity = (r: MediaRange) =>
    r.type === type && r.subtype === subtype ? 3 : r.type === type && r.subtype === '*' ? 2 : r.type === '*' && r.subtype === '*' ? 1 : 0;
  let best: MediaRange | undefined;
  for (const range of ranges) {
    const s = specificity(range);
    if (s > 0 && (!best || s > specificity(best))) best = range;
  }
  return best?.q ?? 0;
}

/**
 * Of the media types a route offers, the one the client ranks highest; ties go to the earlier
 * offer (the route's default first). Undefined when the client accepts none of them.
 */
export function preferredType<T extends string>(accept: string | undefined, offers: readonly T[]): T | undefined {
  const ranges = parseAccept(accept?.trim() || '*/*');
  let best: T | undefined;
  let bestQ = 0;
  for (const offer of offers) {
    const q = quality(ranges, offer);
    if (q > bestQ) {
      best = offer;
      bestQ = q;
    }
  }
  return best;
}
