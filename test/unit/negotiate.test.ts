import { describe, expect, it } from 'vitest';
import { wantsHtml } from '../../src/http/negotiate.ts';

/**
 * The one negotiation rule of the hub's two-faced routes: the receipt (default JSON) is a page only
 * when asked for one; the dashboard (default HTML) is a page to all but a client that prefers JSON.
 */
const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8';

describe('wantsHtml', () => {
  it.each([
    // accept header, receipt (default JSON), dashboard (default HTML)
    [undefined, false, true],
    ['', false, true],
    ['*/*', false, true],
    [BROWSER, true, true],
    ['text/html', true, true],
    ['text/*', true, true],
    ['application/json', false, false],
    ['application/problem+json', false, false],
    ['application/*', false, false],
    ['application/json, text/html;q=0.5', false, false],
    ['text/html;q=0.5, application/json', false, false],
    ['text/html, application/json', false, true],
    ['text/html;q=0.9, */*;q=0.8', true, true],
    ['application/json;q=0.9, */*', false, true],
    ['text/html;q=0, */*', false, false],
    ['*/*, text/html;q=0', false, false],
    ['text/plain', false, false],
    ['text/html;q=oops', false, false],
    ['TEXT/HTML', true, true],
    ['text/html;level=1;q=0.7, application/json;q=0.6', true, true],
  ])('Accept %j: receipt page %s, dashboard page %s', (accept, receipt, dashboard) => {
    expect(wantsHtml(accept, 'json')).toBe(receipt);
    expect(wantsHtml(accept, 'html')).toBe(dashboard);
  });
});
