import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compactVerify, createLocalJWKSet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/hub-process.ts';

/**
 * The newcomer's path, as the README tells it, on the real entry points: `npm start` on an empty
 * data folder (migrations, demo data, listening), `npm run token`, a dossier, an intent, a payment
 * on the sandbox page with the callback over real HTTP, a receipt verified with the published
 * key; then a graceful stop and a restart that neither re-seeds nor forgets its secrets.
 */
const root = new URL('../..', import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), 'hub-fresh-'));
let port = 0;
let base = '';
let server: ChildProcess | undefined;
const output: string[] = [];

const env = () => ({
  ...process.env,
  DATABASE_URL: '',
  DATA_DIR: dataDir,
  PORT: String(port),
  PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
  JOBS_INTERVAL_SECONDS: '0',
  LOG_LEVEL: 'info',
});

async function start(): Promise<void> {
  server = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { cwd: root, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the hub did not start:\n${output.join('')}`)), 120_000);
    const onData = (chunk: Buffer) => {
      output.push(chunk.toString());
      if (chunk.toString().includes('"msg":"listening"')) {
        clearTimeout(timer);
        resolve();
      }
    };
    server!.stdout!.on('data', onData);
    server!.stderr!.on('data', (c: Buffer) => output.push(c.toString()));
    server!.once('exit', (code) => reject(new Error(`the hub exited with ${code}:\n${output.join('')}`)));
  });
}

async function stop(): Promise<number | null> {
  if (!server) return null;
  const exited = new Promise<number | null>((resolve) => server!.once('exit', (code) => resolve(code)));
  server.kill('SIGTERM');
  const code = await exited;
  server = undefined;
  return code;
}

function token(role: string): string {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/token.ts', '--role', role], {
    cwd: root,
    env: env(),
    encoding: 'utf8',
  });
  expect(run.status, run.stderr).toBe(0);
  const lines = run.stdout.split('\n').filter(Boolean);
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

beforeAll(async () => {
  port = await freePort();
  base = `http://127.0.0.1:${port}`;
  await start();
}, 180_000);

afterAll(async () => {
  await stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('a fresh start on the embedded database', () => {
  let portal = '';
  let intentId = '';

  it('loads the demo data and is ready', async () => {
    expect(output.join('')).toContain('"msg":"demo data loaded"');
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    portal = token('portal');
    const agencies = await (await fetch(`${base}/v1/agencies`, { headers: { authorization: `Bearer ${portal}` } })).json();
    expect(agencies.items.map((a: { code: string }) => a.code)).toContain('000.00.00.H19');
    const procedures = await (await fetch(`${base}/v1/procedures`, { headers: { authorization: `Bearer ${portal}` } })).json();
    expect(procedures.items.length).toBeGreaterThanOrEqual(15);
  });

  it('serves /docs with its Scalar bundle, and examples that name a demo dossier', async () => {
    const page = await (await fetch(`${base}/docs`)).text();
    const bundlePath = /<script src="(\/docs\/assets\/[^"]+\.js)"/.exec(page)?.[1];
    expect(bundlePath).toBeDefined();
    const bundle = await fetch(`${base}${bundlePath}`);
    expect(bundle.status).toBe(200);
    expect((await bundle.arrayBuffer()).byteLength).toBeGreaterThan(1_000_000);
    const document = await (await fetch(`${base}/openapi.json`)).json();
    const example = document.paths['/v1/payment-intents'].post.requestBody.content['application/json'].example.dossierCode;
    const dossier = await fetch(`${base}/v1/dossiers/${example}`, { headers: { authorization: `Bearer ${portal}` } });
    expect(dossier.status).toBe(200);
    expect((await dossier.json()).totalDue).toBeGreaterThan(0);
  });

  it('takes a payment through the sandbox page and gives a verifiable receipt', async () => {
    const headers = { authorization: `Bearer ${portal}`, 'content-type': 'application/json' };
    const code = '000.00.00.H19-261122-9001';
    const dossier = await fetch(`${base}/v1/dossiers/${code}`, {
      method: 'PUT',
      headers,
      body: JSON.stringify({
        procedureCode: '3.000347',
        agencyCode: '000.00.00.H19',
        channel: 'online',
        receivedAt: '2026-11-22T09:30:00+07:00',
        applicant: { name: 'Nguyễn Văn An', address: 'Đồng Nai' },
      }),
    });
    expect(dossier.status, await dossier.clone().text()).toBe(201);
    expect((await dossier.json()).totalDue).toBe(135_000);

    const created = await fetch(`${base}/v1/payment-intents`, {
      method: 'POST',
      headers: { ...headers, 'idempotency-key': 'fresh-start-1' },
      body: JSON.stringify({ dossierCode: code, gateway: 'sandbox', returnUrl: `${base}/docs` }),
    });
    expect(created.status).toBe(201);
    const intent = await created.json();
    intentId = intent.id;

    const page = await (await fetch(intent.nextAction.url)).text();
    const form = new URLSearchParams();
    for (const m of page.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) form.set(m[1]!, m[2]!.replace(/&amp;/g, '&'));
    form.set('choice', 'pay');
    const paid = await fetch(intent.nextAction.url.split('?')[0], { method: 'POST', body: form, redirect: 'manual' });
    expect(paid.status).toBe(303);
    expect(paid.headers.get('location')).toContain('status=succeeded');

    const receipt = await (await fetch(`${base}/v1/payment-intents/${intentId}/receipt`, { headers })).json();
    expect(receipt.totalInWords).toBe('Một trăm ba mươi lăm nghìn đồng');
    const jwks = await (await fetch(`${base}/.well-known/jwks.json`)).json();
    await expect(compactVerify(receipt.signature, createLocalJWKSet(jwks))).resolves.toBeTruthy();
  });

  it('offers VNPay, VietQR and the national platform out of the box, each through its hosted emulator', async () => {
    const headers = { authorization: `Bearer ${portal}`, 'content-type': 'application/json' };
    const start = async (n: number, gateway: string) => {
      const code = `000.01.15.H19-261122-${9100 + n}`;
      const dossier = await fetch(`${base}/v1/dossiers/${code}`, {
        method: 'PUT',
        headers,
        body: JSON.stringify({
          procedureCode: '3.000347',
          agencyCode: '000.01.15.H19',
          channel: 'online',
          receivedAt: '2026-11-22T09:30:00+07:00',
        }),
      });
      expect(dossier.status, await dossier.clone().text()).toBe(201);
      const created = await fetch(`${base}/v1/payment-intents`, {
        method: 'POST',
        headers: { ...headers, 'idempotency-key': `fresh-start-${gateway}` },
        body: JSON.stringify({ dossierCode: code, gateway, returnUrl: `${base}/docs` }),
      });
      expect(created.status, await created.clone().text()).toBe(201);
      return created.json();
    };
    const vnpay = await start(1, 'vnpay');
    expect(vnpay.nextAction.url.startsWith(`${base}/sandbox/vnpay/paymentv2/vpcpay.html?`)).toBe(true);
    expect(new URL(vnpay.nextAction.url).searchParams.get('vnp_Amount')).toBe('13500000');
    expect((await fetch(vnpay.nextAction.url)).status).toBe(200);
    const vietqr = await start(2, 'vietqr');
    expect(vietqr.nextAction).toMatchObject({ type: 'qr', amount: 135_000, transferText: vietqr.reference });
    expect(
      (await fetch(`${base}/sandbox/vietqr?account=${vietqr.nextAction.accountNumber}&amount=135000&text=${vietqr.reference}`)).status,
    ).toBe(200);
    const dvcqg = await start(3, 'dvcqg');
    expect(dvcqg.nextAction.url.startsWith(`${base}/sandbox/dvcqg/pay/${dvcqg.reference}`)).toBe(true);
    expect((await fetch(dvcqg.nextAction.url)).status).toBe(200);
  });

  it("shows the demo campaign on the dashboard to a campaign manager's token", async () => {
    const signIn = await fetch(`${base}/dashboard/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
      body: new URLSearchParams({ token: token('campaign') }),
      redirect: 'manual',
    });
    expect(signIn.status).toBe(303);
    const cookie = signIn.headers.getSetCookie()[0]!.split(';')[0]!;
    const response = await fetch(`${base}${signIn.headers.get('location')}`, { headers: { accept: 'text/html', cookie } });
    expect(response.status).toBe(200);
    const page = await response.text();
    expect(page).toContain('Chiến dịch 30 ngày nâng cao tỷ lệ thanh toán trực tuyến');
    expect(page).toContain('<svg class="burn-up"');
  });

  it('stops gracefully, and restarts without re-seeding or new secrets', async () => {
    expect(await stop()).toBe(0);
    // While it is stopped: the roll-ups agree with a recount of the dossiers (the operators' check).
    const verify = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/indicators.ts', 'verify'], {
      cwd: root,
      env: env(),
      encoding: 'utf8',
    });
    expect(verify.status, verify.stderr + verify.stdout).toBe(0);
    expect(JSON.parse(verify.stdout.trim().split('\n').at(-1)!)).toMatchObject({
      consistent: true,
      rollups: [],
      feeLists: [],
      campaignSummaries: [],
    });
    output.length = 0;
    await start();
    expect(output.join('')).not.toContain('"msg":"demo data loaded"');
    const again = await fetch(`${base}/v1/payment-intents/${intentId}`, { headers: { authorization: `Bearer ${portal}` } });
    expect(again.status).toBe(200);
    expect((await again.json()).status).toBe('succeeded');
  });
});
