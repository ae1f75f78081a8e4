import { signatureHeader } from '../../src/emulators/protocol/sandbox.ts';
import type { Harness } from './harness.ts';
import { SANDBOX_SECRETS } from './harness.ts';

/** A sandbox callback body for an intent: a success for its full amount unless overridden. */
export function sandboxEvent(intent: { reference: string; amount: number }, overrides: Record<string, unknown> = {}) {
  return {
    type: 'payment.succeeded',
    reference: intent.reference,
    transactionId: `SBX${intent.reference}`,
    amount: intent.amount,
    currency: 'VND',
    occurredAt: new Date().toISOString(),
    ...overrides,
  };
}

/**
 * Delivers a raw body to the sandbox callback route as the sandbox would: signed with its
 * current secret (or `secret`), timestamped by the harness clock (or `timestamp`).
 */
export async function deliverSandboxCallback(
  h: Harness,
  body: string | Record<string, unknown>,
  options: { secret?: string; timestamp?: number } = {},
): Promise<Response> {
  const raw = typeof body === 'string' ? body : JSON.stringify(body);
  const timestamp = options.timestamp ?? Math.floor(h.ctx.now().getTime() / 1000);
  return h.request('POST', '/v1/callbacks/sandbox', {
    rawBody: raw,
    headers: {
      'content-type': 'application/json',
      'sandbox-signature': await signatureHeader(options.secret ?? SANDBOX_SECRETS[0]!, timestamp, raw),
    },
  });
}

/** The hidden, signed fields of a checkout page, unescaped. */
export function checkoutForm(html: string): URLSearchParams {
  const form = new URLSearchParams();
  for (const m of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    form.set(
      m[1]!,
      m[2]!
        .replace(/&amp;/g, '&')
        .replace(/&quot;/g, '"')
        .replace(/&#39;/g, "'")
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>'),
    );
  }
  return form;
}

/** Opens the sandbox checkout page of an intent and reads its signed hidden form. */
export async function openCheckout(url: string) {
  const page = await fetch(url);
  const html = await page.text();
  const form = checkoutForm(html);
  return { status: page.status, html, form };
}

/**
 * The payer chooses on a checkout page (the sandbox's, or an emulated channel's, with the fields
 * it asks for in `extra`); the harness must be listening.
 */
export async function chooseOnCheckout(url: string, choice: string, extra: Record<string, string> = {}): Promise<Response> {
  const { status, html, form } = await openCheckout(url);
  if (status !== 200) throw new Error(`checkout page ${url} answered ${status}: ${html.slice(0, 300)}`);
  form.set('choice', choice);
  for (const [k, v] of Object.entries(extra)) form.set(k, v);
  return fetch(url.split('?')[0]!, { method: 'POST', body: form, redirect: 'manual' });
}
