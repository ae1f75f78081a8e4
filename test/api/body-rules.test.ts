import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoGateways } from '../helpers/channels.ts';
import { createHarness, type Harness, mintToken } from '../helpers/harness.ts';
import { expectProblem } from '../helpers/problems.ts';
import { multipart } from '../helpers/statements.ts';

/**
 * Hostile bodies on the routes that read one (issue 14): the sandbox's checkout and the channel
 * emulators read their forms and messages whole and without a limit, and a multipart body made
 * them answer 500. Every such route now names the media type it reads (415 otherwise, before
 * anything is read) and reads at most 64 KiB (413, the rest never read); the hub's own JSON
 * operations name theirs too.
 */
let h: Harness;
beforeAll(async () => {
  h = await createHarness({ emulators: (env) => demoGateways(env.baseUrl) });
});
afterAll(() => h?.close());

const FORM_ROUTES = [
  '/sandbox/checkout/HPTEST000001',
  '/sandbox/vnpay/paymentv2/vpcpay.html',
  '/sandbox/dvcqg/pay/HPTEST000001',
  '/sandbox/vietqr',
];
const JSON_ROUTES = [
  '/sandbox/api/payments/HPTEST000001/refunds',
  '/sandbox/vnpay/merchant_webapi/api/transaction',
  '/sandbox/dvcqg/init',
  '/sandbox/dvcqg/query',
];
const FORM = 'application/x-www-form-urlencoded';

/** 100 MB of form text, made only as it is read; `pulled` says how much was. */
function hugeForm(total = 100 * 1024 * 1024, chunk = 64 * 1024) {
  const counter = { pulled: 0 };
  const piece = new TextEncoder().encode(`choice=${'x'.repeat(chunk - 7)}`);
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (counter.pulled >= total) return controller.close();
      controller.enqueue(piece);
      counter.pulled += piece.byteLength;
    },
  });
  return { stream, counter };
}

describe('the emulators’ form routes', () => {
  it('refuse a multipart body with 415 naming the form type, well-formed or not, never 500', async () => {
    const { body, contentType } = multipart({ choice: 'pay', account: '1014682259', amount: '1000' });
    for (const path of FORM_ROUTES) {
      for (const [type, raw] of [
        [contentType, body],
        ['multipart/form-data', 'garbage'],
        ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="choice"\r\n\r\npay'],
      ] as const) {
        const response = await h.request('POST', path, { rawBody: raw, headers: { 'content-type': type } });
        const problem = await expectProblem(response, 415, 'unsupported-media-type');
        expect(problem.detail, path).toContain(FORM);
        expect(problem.errors).toEqual([{ path: 'content-type', message: `expected ${FORM}` }]);
      }
    }
  });

  it('refuse JSON, text and a body without a type with 415', async () => {
    for (const path of FORM_ROUTES) {
      for (const headers of [{ 'content-type': 'application/json' }, { 'content-type': 'text/plain' }, {}] as Record<string, string>[]) {
        const response = await h.request('POST', path, { rawBody: new TextEncoder().encode('{"choice":"pay"}'), headers });
        const problem = await expectProblem(response, 415, 'unsupported-media-type');
        expect(problem.detail, `${path} ${headers['content-type']}`).toContain(FORM);
      }
    }
  });

  it('read a url-encoded form (its charset parameter too): the route answers it', async () => {
    for (const path of FORM_ROUTES) {
      const response = await h.request('POST', path, {
        rawBody: 'choice=pay&d=x&sig=y',
        headers: { 'content-type': `${FORM}; charset=UTF-8` },
      });
      // An unsigned form: refused by the route itself, as a page.
      expect(response.status, path).toBe(400);
      expect(response.headers.get('content-type'), path).toMatch(/^text\/html/);
    }
  });

  it('answer an empty multipart body (content-length 0) with a 4xx, not a 500', async () => {
    for (const path of FORM_ROUTES) {
      const response = await h.request('POST', path, {
        rawBody: '',
        headers: { 'content-type': 'multipart/form-data; boundary=x', 'content-length': '0' },
      });
      expect(response.status, path).toBeGreaterThanOrEqual(400);
      expect(response.status, path).toBeLessThan(500);
    }
  });

  it('refuse a streamed 100 MB form with 413 after reading no more than the limit', async () => {
    for (const path of FORM_ROUTES) {
      const { stream, counter } = hugeForm();
      const response = await h.request('POST', path, { rawBody: stream, headers: { 'content-type': FORM } });
      const problem = await expectProblem(response, 413, 'payload-too-large');
      expect(problem.detail).toContain('64 KiB');
      // 64 KiB may be read, and what the stream had queued: never the 100 MB.
      expect(counter.pulled, path).toBeLessThan(1024 * 1024);
    }
  });
});

describe('the emulators’ message routes', () => {
  it('refuse a form, a multipart body and text with 415 naming JSON', async () => {
    const { body, contentType } = multipart({ MaThamChieu: 'HPTEST000001' });
    for (const path of JSON_ROUTES) {
      for (const [type, raw] of [
        [FORM, 'MaThamChieu=HPTEST000001'],
        [contentType, body],
        ['text/plain', '{}'],
      ] as const) {
        const problem = await expectProblem(await h.request('POST', path, { rawBody: raw, headers: { 'content-type': type } }), 415);
        expect(problem.code).toBe('unsupported-media-type');
        expect(problem.detail, path).toContain('application/json');
      }
    }
  });

  it('read JSON (with a charset too), and refuse a streamed 100 MB message with 413', async () => {
    for (const path of JSON_ROUTES) {
      const read = await h.request('POST', path, { rawBody: '{}', headers: { 'content-type': 'application/json; charset=utf-8' } });
      expect(read.status, path).not.toBe(415);
      expect(read.status, path).toBeLessThan(500);
      const { stream, counter } = hugeForm();
      const huge = await h.request('POST', path, { rawBody: stream, headers: { 'content-type': 'application/json' } });
      await expectProblem(huge, 413, 'payload-too-large');
      expect(counter.pulled, path).toBeLessThan(1024 * 1024);
    }
  });
});

describe("the hub's JSON operations", () => {
  it('name the media type they read in their 415', async () => {
    const admin = await mintToken({ role: 'admin' });
    for (const type of ['text/plain', 'multipart/form-data; boundary=x', FORM]) {
      const response = await h.request('PUT', '/v1/dossiers/000.00.00.H19-261120-0001', {
        token: admin,
        rawBody: 'x',
        headers: { 'content-type': type },
      });
      const problem = await expectProblem(response, 415, 'unsupported-media-type');
      expect(problem.detail).toBe('this operation reads application/json');
      expect(problem.errors).toEqual([{ path: 'content-type', message: 'expected application/json' }]);
    }
  });
});

describe('over real HTTP', () => {
  it('a 100 MB form declared by content-length is answered 413 before it is sent', async () => {
    const base = new URL(await h.listen());
    const declared = 100 * 1024 * 1024;
    const { status, body, sent } = await new Promise<{ status: number; body: string; sent: number }>((resolve, reject) => {
      let sent = 0;
      const req = httpRequest(
        {
          host: base.hostname,
          port: base.port,
          method: 'POST',
          path: '/sandbox/checkout/HPTEST000001',
          headers: { 'content-type': FORM, 'content-length': String(declared) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), sent });
            req.destroy();
          });
        },
      );
      req.on('error', (error) => (sent < declared ? undefined : reject(error)));
      // The first 64 KiB only: the answer must come without the rest.
      const piece = Buffer.alloc(64 * 1024, 'x');
      sent += piece.length;
      req.write(piece);
    });
    expect(status).toBe(413);
    expect(JSON.parse(body).code).toBe('payload-too-large');
    expect(sent).toBeLessThan(declared);
  });
});
