import { describe, expect, it } from 'vitest';
import { reviewActions } from '../../src/db/schema/reviews.ts';
import { formatMoney, formatVnDateTime } from '../../src/web/format.ts';
import { renderIntentList, renderRefundList, renderReviewCase, renderReviewQueue } from '../../src/web/treasury/pages.ts';
import {
  awaitingApprovalCase,
  caseModel,
  HOSTILE,
  intentsModel,
  queueModel,
  refundsModel,
  resolvedCase,
  unmatchedCreditCase,
} from '../helpers/treasury-fixtures.ts';

/**
 * The desk's renderers from plain view models: what a person can do on each page follows the
 * model (allowed actions, the approval step, their own decision), hostile text stays text, and
 * every filter survives in the form and in the link to the next page.
 */
const EVIL = '"><script>alert(1)</script>';

/** The hrefs of a page, decoded the way the browser reads the attribute. */
const hrefs = (page: string) => [...page.matchAll(/href="([^"]*)"/g)].map((m) => m[1]!.replaceAll('&amp;', '&'));
/** Where the page's POST forms go (the GET filter forms aside). */
const forms = (page: string) => [...page.matchAll(/<form[^>]*method="post" action="([^"]*)"/g)].map((m) => m[1]!);
const radios = (page: string) => [...page.matchAll(/name="action" value="([^"]*)"/g)].map((m) => m[1]);

describe('escaping', () => {
  it('keeps a raw gateway body as text inside its <pre>', () => {
    const page = String(renderReviewCase(caseModel()));
    expect(page).not.toContain('<script>');
    expect(page).toContain('&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    // The <pre> opened for the body is the one closed after it.
    const raw = page.slice(page.indexOf('<pre class="raw"'));
    expect(raw.indexOf('</pre>')).toBeGreaterThan(raw.indexOf('alert(1)'));
    expect(HOSTILE).toContain('</pre>');
  });

  it('escapes every string a model carries, on every page', () => {
    const pages = [
      renderReviewQueue(
        queueModel({
          filters: { agency: EVIL, kind: EVIL },
          reviews: queueModel().reviews.map((r) => ({ ...r, reason: EVIL, intentReference: EVIL, gateway: EVIL })),
          notice: EVIL,
        }),
      ),
      renderReviewCase(
        caseModel({
          review: { ...caseModel().review, reason: EVIL, gatewayTransactionId: EVIL },
          values: { note: `</textarea>${EVIL}`, amount: EVIL, action: EVIL },
          error: { title: EVIL, detail: EVIL, fields: [{ path: EVIL, message: EVIL }] },
          history: [{ at: '2026-11-20T03:00:00Z', actor: EVIL, action: EVIL, reason: EVIL }],
        }),
      ),
      renderReviewCase(unmatchedCreditCase()),
      renderReviewCase({
        ...awaitingApprovalCase(true),
        decision: { ...awaitingApprovalCase(true).decision!, note: EVIL, evidence: EVIL },
      }),
      renderIntentList(
        intentsModel({ filters: { reference: EVIL }, intents: intentsModel().intents.map((i) => ({ ...i, dossierCode: EVIL })) }),
      ),
      renderRefundList(refundsModel({ refunds: refundsModel().refunds.map((r) => ({ ...r, reason: EVIL, requestedBy: EVIL })) })),
    ].map(String);
    for (const page of pages) {
      expect(page).not.toContain('<script>');
      expect(page).not.toContain('"><script');
    }
    expect(pages[1]).toContain('&lt;/textarea&gt;');
  });
});

describe('the queue', () => {
  const page = String(renderReviewQueue(queueModel()));

  it('links every review to its case and says when money names no dossier', () => {
    for (const review of queueModel().reviews) expect(hrefs(page)).toContain(`/dashboard/treasury/reviews/${review.id}`);
    expect(page).toContain('không gắn hồ sơ');
    expect(page).toContain(formatMoney(1_585_000));
    expect(page).toContain(formatVnDateTime('2026-11-20T02:15:00Z'));
    expect(formatVnDateTime('2026-11-20T02:15:00Z')).toBe('20/11/2026 09:15');
  });

  it('keeps the current filters in the form', () => {
    expect(page).toMatch(/<option value="vietqr" selected>/);
    expect(page).toContain('name="from" value="2026-11-01"');
    expect(page).toContain('name="minAmount" value="10000"');
    expect(page).toMatch(/<form class="filters" method="get" action="\/dashboard\/treasury\/reviews"/);
  });

  it('builds the next page link with the filters and the cursor', () => {
    const next = hrefs(page).find((h) => h.includes('cursor='))!;
    const url = new URL(next, 'http://desk');
    expect(url.pathname).toBe('/dashboard/treasury/reviews');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      gateway: 'vietqr',
      from: '2026-11-01',
      minAmount: '10000',
      cursor: queueModel().nextCursor,
    });
    expect(String(renderReviewQueue(queueModel({ nextCursor: null })))).not.toContain('cursor=');
  });

  it('makes each count a link that sets its filter and keeps the others', () => {
    const links = hrefs(page).map((h) => new URL(h, 'http://desk'));
    const open = links.find((u) => u.searchParams.get('status') === 'open')!;
    expect(open.searchParams.get('gateway')).toBe('vietqr');
    expect(links.some((u) => u.searchParams.get('kind') === 'unmatched_credit')).toBe(true);
  });

  it('has an empty state', () => {
    const empty = String(renderReviewQueue(queueModel({ reviews: [], nextCursor: null })));
    expect(empty).toContain('Không có trường hợp nào cần xử lý');
    expect(empty).not.toContain('<table');
  });

  it('marks the current section of the desk', () => {
    expect(page).toMatch(/<a href="\/dashboard\/treasury\/reviews" aria-current="page">Hàng chờ xử lý<\/a>/);
    expect(String(renderRefundList(refundsModel()))).toMatch(/<a href="\/dashboard\/treasury\/refunds" aria-current="page">/);
  });
});

describe('the case', () => {
  it('offers only the allowed actions, with the fields they need, posting to the decision URL', () => {
    const page = String(renderReviewCase(caseModel()));
    expect(radios(page)).toEqual(['accept', 'refund', 'reject']);
    expect(forms(page)).toEqual([`/dashboard/treasury/reviews/${caseModel().review.id}/decision`]);
    expect(page).toContain('value="csrf-token-1"');
    expect(page).toContain(`name="key" value="${caseModel().idempotencyKey}"`);
    expect(page).toMatch(/<textarea id="d-note" name="note"[^>]* required/);
    expect(page).toContain('name="amount" type="number" min="1" step="1" inputmode="numeric" value="100000"');
    expect(page).toContain('name="evidence"');
    expect(page).not.toContain('name="intentId"');
    expect(page).toMatch(/<fieldset id="d-action">\s*<legend>Chọn quyết định<\/legend>/);

    const credit = String(renderReviewCase(unmatchedCreditCase()));
    expect(radios(credit)).toEqual(['refund', 'assign', 'reject']);
    expect(credit).toContain('name="intentId"');
    expect(credit).toContain('name="dossierCode"');
    expect(credit).not.toContain('name="amount"');
    expect(credit).toContain('Không gắn hồ sơ');

    for (const action of reviewActions) {
      const one = String(renderReviewCase(caseModel({ allowedActions: [action], amountRequiredFor: [] })));
      expect(radios(one)).toEqual([action]);
      // The only choice is chosen already.
      expect(one).toContain(`value="${action}" required checked`);
    }
  });

  it('shows the difference between asked and received, and not when they agree', () => {
    expect(String(renderReviewCase(caseModel()))).toMatch(/yêu cầu 135\.000 đ,\s*cổng báo 100\.000 đ — thiếu <strong>35\.000 đ<\/strong>/);
    const agreed = caseModel({ review: { ...caseModel().review, amount: 135_000 } });
    expect(String(renderReviewCase(agreed))).not.toContain('Số tiền khác nhau');
  });

  it('keeps what was typed and marks the field at fault after an error', () => {
    const page = String(
      renderReviewCase(
        caseModel({
          values: { action: 'refund', note: 'Trả lại theo đề nghị', evidence: 'FT123' },
          error: { title: 'Thiếu chứng từ', fields: [{ path: 'evidence', message: 'Ghi số tham chiếu' }] },
        }),
      ),
    );
    expect(page).toContain('value="refund" required checked');
    expect(page).toContain('>Trả lại theo đề nghị</textarea>');
    expect(page).toMatch(/name="evidence" value="FT123"[^>]* aria-invalid="true" aria-describedby="err-evidence"/);
    expect(page).toContain('<a href="#d-evidence">Chứng từ hoàn tiền</a>: Ghi số tham chiếu');
    expect(page).toContain('role="alert"');
  });

  it('shows approve and decline only while awaiting approval, and not to the one who decided', () => {
    const id = caseModel().review.id;
    const awaiting = String(renderReviewCase(awaitingApprovalCase(true)));
    expect(forms(awaiting)).toEqual([`/dashboard/treasury/reviews/${id}/approve`, `/dashboard/treasury/reviews/${id}/decline`]);
    expect(awaiting).toContain('Người ra quyết định không thể tự phê duyệt');
    expect(awaiting).toContain('treasury:ke-toan-01');
    expect(radios(awaiting)).toEqual([]);
    expect(awaiting.match(/value="csrf-token-1"/g)).toHaveLength(2);

    const own = String(renderReviewCase(awaitingApprovalCase(false)));
    expect(forms(own)).toEqual([]);
    expect(own).toContain('Bạn đã ra quyết định này');

    expect(forms(String(renderReviewCase(caseModel())))).not.toContain(`/dashboard/treasury/reviews/${id}/approve`);
  });

  it('shows a resolved case read only, with its outcome', () => {
    const page = String(renderReviewCase(resolvedCase()));
    expect(forms(page)).toEqual([]);
    expect(page).toContain('Đã ghi nhận thanh toán');
    expect(page).toContain('Còn thiếu so với số yêu cầu');
    expect(page).toContain('treasury:ke-toan-02');
    expect(page).toContain('role="status"');
    // The histories in time order, whatever order the model gave.
    expect(page.indexOf('Ra quyết định')).toBeLessThan(page.indexOf('Phê duyệt quyết định'));
    expect(page.indexOf('Tạo yêu cầu thanh toán')).toBeLessThan(page.indexOf('Đã chuyển sang cổng thanh toán'));
  });
});

describe('intents and refunds', () => {
  it('lists intents with the amount received when it differs, keeping the filters in the form and the next link', () => {
    const page = String(renderIntentList(intentsModel()));
    expect(page).toContain('nhận 100.000 đ');
    expect(page.match(/nhận \d/g)).toHaveLength(1);
    expect(page).toMatch(/<option value="needs_review" selected>/);
    expect(page).toContain('name="agency" value="000.00.10.H19"');
    const next = new URL(hrefs(page).find((h) => h.includes('cursor='))!, 'http://desk');
    expect(next.pathname).toBe('/dashboard/treasury/intents');
    expect(Object.fromEntries(next.searchParams)).toEqual({
      status: 'needs_review',
      agency: '000.00.10.H19',
      createdFrom: '2026-11-01',
      cursor: 'c2',
    });
  });

  it('offers approve and reject for a refund awaiting approval, unless the viewer asked for it', () => {
    const model = refundsModel();
    const page = String(renderRefundList(model));
    const [theirs, mine] = model.refunds;
    expect(forms(page)).toEqual([`/dashboard/treasury/refunds/${theirs!.id}/approve`, `/dashboard/treasury/refunds/${theirs!.id}/reject`]);
    expect(page).not.toContain(`/dashboard/treasury/refunds/${mine!.id}/`);
    expect(page).toContain('Bạn đã yêu cầu');
    expect(page).toContain('Chờ phê duyệt');
    expect(page).toContain('Chuyển khoản thủ công');
  });

  it('has table headers with scope and a label for every input', () => {
    for (const page of [renderReviewQueue(queueModel()), renderIntentList(intentsModel()), renderRefundList(refundsModel())].map(String)) {
      expect(page).not.toMatch(/<th(?! scope="col")[ >]/);
      for (const [, id] of page.matchAll(/<(?:input|select|textarea) id="([^"]+)"/g)) expect(page).toContain(`<label for="${id}">`);
    }
  });
});
