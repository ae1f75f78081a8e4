import { describeError } from '../db/errors.ts';
import type { Database } from '../db/types.ts';
import { FORM_MEDIA_TYPE, JSON_MEDIA_TYPE, readsBodies } from '../http/middleware/bodies.ts';
import type { Logger } from '../logger.ts';
import { ServiceError } from '../services/errors.ts';

/**
 * What every emulator is built from. The emulators stand in for the sandbox gateway, VNPay, the
 * national platform and a bank in the offline demo; they keep their own ledger
 * (sandbox_transactions, ./schema.ts) and reach the hub only over HTTP, as the real channels do.
 */
export interface EmulatorDeps {
  db: Database;
  /** Where the hub is reached: the channel calls back here, as enrolled with the real one. */
  publicBaseUrl: string;
  fetch: typeof fetch;
  log: Logger;
  now: () => Date;
}

/** A channel's messages are small; a form or JSON body above this is not one of them. */
const EMULATOR_MAX_BODY_BYTES = 64 * 1024;

/**
 * Every emulator route that reads a body says which, before the body is read: a page's form
 * (url-encoded, as the emulators' pages post it: a multipart body is refused 415, never parsed),
 * or a channel API's JSON; at most 64 KiB of either (413, the rest never read). Refusals are the
 * hub's problem+json, as for any bad input.
 */
export const emulatorForm = () =>
  readsBodies({ accept: [FORM_MEDIA_TYPE], maxBytes: EMULATOR_MAX_BODY_BYTES, what: "an emulated channel's form" });
export const emulatorJson = () =>
  readsBodies({ accept: [JSON_MEDIA_TYPE], maxBytes: EMULATOR_MAX_BODY_BYTES, what: "an emulated channel's message" });

/** `length` random decimal digits, the first never 0 (transaction numbers read as numbers). */
export function randomDigits(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  return Array.from(bytes, (b, i) => (i === 0 ? 1 + (b % 9) : b % 10)).join('');
}

/**
 * The string fields of a posted form (files and repeated keys' extras are not a channel's); a
 * body that does not parse as a form is a 400, never a 500.
 */
export async function formFields(request: { parseBody(): Promise<Record<string, unknown>> }): Promise<Record<string, string>> {
  let body: Record<string, unknown>;
  try {
    body = await request.parseBody();
  } catch {
    throw new ServiceError('validation-failed', 'the form cannot be read', [{ path: 'form', message: 'not a well-formed form body' }]);
  }
  return Object.fromEntries(Object.entries(body).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

export interface Delivery {
  /** The hub's last answer, or null when it never answered. */
  status: number | null;
  body: string;
  attempts: number;
}

/**
 * Sends a notification as a channel does: again, a few times, while the answer is not a proper
 * one (`accepted`). The real channels retry over minutes; the payer waits here, so it is short.
 * `send` is called once per attempt, so a signature with a timestamp is made afresh each time.
 */
export async function deliver(
  deps: EmulatorDeps,
  channel: string,
  send: (signal: AbortSignal) => Promise<Response>,
  accepted: (status: number, body: string) => boolean,
  attempts = 3,
): Promise<Delivery> {
  let last: Delivery = { status: null, body: '', attempts: 0 };
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const response = await send(AbortSignal.timeout(10_000));
      last = { status: response.status, body: await response.text(), attempts: attempt };
      if (accepted(last.status!, last.body)) return last;
      deps.log.warn('emulator notification not accepted', { channel, attempt, status: last.status });
    } catch (error) {
      last = { ...last, attempts: attempt };
      deps.log.warn('emulator notification failed', { channel, attempt, error: describeError(error) });
    }
    if (attempt < attempts) await new Promise((r) => setTimeout(r, 200 * attempt));
  }
  return last;
}

/** A JSON object body, or undefined (the hub's adapters read theirs with their own: the two sides share no code). */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Appends query parameters to a URL that may already carry some (as the channels do). */
export function withQuery(url: string, query: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}${query}`;
}
