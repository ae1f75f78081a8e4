import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config.ts';
import { runJobs } from '../../src/jobs/index.ts';
import { AGENCIES, createIntent, createProcedure, registerDossier, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, json, mintToken } from '../helpers/harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
  await seedAgencyTree(h.ctx);
});
afterAll(() => h.close());

describe('health and readiness', () => {
  it('healthz answers while the process lives', async () => {
    const res = await h.request('GET', '/healthz');
    expect(res.status).toBe(200);
    expect(await json(res)).toEqual({ status: 'ok' });
  });

  it('readyz checks the database and that every migration is applied', async () => {
    const res = await h.request('GET', '/readyz');
    expect(res.status).toBe(200);
    const body = await json(res);
    expect(body.status).toBe('ready');
    expect(body.migrations.applied).toBe(body.migrations.expected);
    expect(body.migrations.expected).toBeGreaterThanOrEqual(2);
  });

  it('readyz answers 503 problem+json when a migration is missing', async () => {
    const fresh = await createHarness();
    try {
      await fresh.db.db.execute(
        sql`DELETE FROM drizzle.__drizzle_migrations WHERE id = (SELECT max(id) FROM drizzle.__drizzle_migrations)`,
      );
      const res = await fresh.request('GET', '/readyz');
      expect(res.status).toBe(503);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect((await json(res)).code).toBe('service-unavailable');
    } finally {
      await fresh.close();
    }
  });

  it('readyz answers 503 problem+json when the database is not reachable', async () => {
    const gone = await createHarness();
    await gone.db.close();
    const res = await gone.request('GET', '/readyz');
    expect(res.status).toBe(503);
    // A closed server pool is a connection error (503 with Retry-After); a closed PGlite, a failed query.
    const body = await json(res);
    expect(body.code).toBe('service-unavailable');
    expect(body.detail).toMatch(/^the database is (unreachable; retry shortly|not reachable or not migrated)$/);
    if (body.detail.startsWith('the database is unreachable')) expect(res.headers.get('retry-after')).toBe('2');
  });

  it('publishes the receipt verification key, and only its public half', async () => {
    const body = await json(await h.request('GET', '/.well-known/jwks.json'));
    expect(body.keys).toHaveLength(1);
    expect(body.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: h.signer.hub.kid });
    expect(body.keys[0].d).toBeUndefined();
  });
});

describe('request ids and logs', () => {
  it('returns a request id in the header and in problem bodies, keeping a sane incoming one', async () => {
    const res = await h.request('GET', '/v1/agencies', { headers: { 'x-request-id': 'portal-req-12345678' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('x-request-id')).toBe('portal-req-12345678');
    expect((await json(res)).requestId).toBe('portal-req-12345678');
    const odd = await h.request('GET', '/v1/agencies', { headers: { 'x-request-id': 'bad id with spaces\n' } });
    expect(odd.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('unknown routes answer a problem too', async () => {
    const res = await h.request('GET', '/v1/nothing-here');
    expect([401, 404]).toContain(res.status);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const anon = await h.request('GET', '/nothing-here');
    expect(anon.status).toBe(404);
    expect((await json(anon)).code).toBe('not-found');
  });

  it('writes one structured line per request, with no personal data', async () => {
    const token = await mintToken({ role: 'portal', agencies: [AGENCIES.province], subject: 'portal-logs' });
    const procedure = await createProcedure(h.ctx);
    const before = h.logs.length;
    const name = 'Trần Thị Bích Ngọc';
    const address = '45 Đường Phan Chu Trinh, phường Long Khánh';
    const dossier = await registerDossier(h, token, procedure, { applicant: { name, address } });
    await h.request('GET', `/v1/dossiers/${dossier.code}`, { token });
    const lines = h.logs.slice(before);
    const requests = lines.filter((l) => l.msg === 'request');
    expect(requests).toHaveLength(2);
    expect(requests[0]).toMatchObject({ method: 'PUT', route: '/v1/dossiers/:code', status: 201, principal: 'portal:portal-logs' });
    expect(requests[1]).toMatchObject({ method: 'GET', route: '/v1/dossiers/:code', status: 200 });
    for (const r of requests) {
      expect(typeof r.requestId).toBe('string');
      expect(typeof r.latencyMs).toBe('number');
    }
    const text = JSON.stringify(lines);
    expect(text).not.toContain(name);
    expect(text).not.toContain('Phan Chu Trinh');
  });
});

describe('logs on failure and for jobs', () => {
  it('an unhandled database error answers a 500 problem and logs no query parameters', async () => {
    const broken = await createHarness();
    try {
      await seedAgencyTree(broken.ctx);
      const token = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
      const procedure = await createProcedure(broken.ctx);
      // A schema the code does not expect: the INSERT of obligations fails inside the request.
      await broken.db.db.execute(sql`ALTER TABLE obligations RENAME COLUMN name TO name_renamed`);
      const name = 'Lê Hoàng Phúc';
      const res = await broken.request('PUT', '/v1/dossiers/000.21.32.H19-261122-0777', {
        token,
        body: {
          procedureCode: procedure,
          agencyCode: AGENCIES.communeA,
          channel: 'online',
          receivedAt: '2026-11-22T09:00:00+07:00',
          applicant: { name, address: 'Số 9 Hẻm Phúc Lộc' },
        },
      });
      expect(res.status).toBe(500);
      const body = await json(res);
      expect(body.code).toBe('internal-error');
      expect(JSON.stringify(body)).not.toContain('name_renamed');
      const errors = broken.logs.filter((l) => l.level === 'error');
      expect(errors).toHaveLength(1);
      expect(String(errors[0]!.error)).toMatch(/^database error 42703/);
      const text = JSON.stringify(broken.logs);
      expect(text).not.toContain(name);
      expect(text).not.toContain('Phúc Lộc');
      // Nothing half-written: the dossier does not exist.
      await broken.db.db.execute(sql`ALTER TABLE obligations RENAME COLUMN name_renamed TO name`);
      expect((await broken.request('GET', '/v1/dossiers/000.21.32.H19-261122-0777', { token })).status).toBe(404);
    } finally {
      await broken.close();
    }
  });

  it('logs a job only when it did something or failed: an idle run is one debug line', async () => {
    // What the tests above left for the jobs (the roll-up deltas their dossiers wrote) is done first.
    await runJobs(h.ctx);
    let before = h.logs.length;
    await runJobs(h.ctx);
    expect(h.logs.slice(before).filter((l) => l.msg === 'job')).toEqual([]);
    expect(h.logs.slice(before).filter((l) => l.msg === 'jobs idle')).toMatchObject([{ level: 'debug', jobs: 12 }]);

    // An intent two days past its expiry: the poller and the expiry job have work.
    const token = await mintToken({ role: 'portal', agencies: [AGENCIES.province] });
    const dossier = await registerDossier(h, token, await createProcedure(h.ctx));
    expect((await createIntent(h, token, dossier.code)).status).toBe(201);
    h.clock.now = new Date(Date.now() + 2 * 24 * 3600_000);
    try {
      before = h.logs.length;
      const results = await runJobs(h.ctx);
      const lines = h.logs.slice(before).filter((l) => l.msg === 'job');
      expect(lines.map((l) => l.job)).toContain('expire-intents');
      for (const line of lines) {
        expect(line).toMatchObject({ level: 'info', status: 'ok', result: results[line.job as string] });
        expect(typeof line.latencyMs).toBe('number');
      }
      // The jobs left out reported nothing but zeros.
      for (const [job, result] of Object.entries(results)) {
        if (!lines.some((l) => l.job === job)) expect(JSON.stringify(result)).toMatch(/^(0|\{("\w+":0,?)*\})$/);
      }
      expect(h.logs.slice(before).some((l) => l.msg === 'jobs idle')).toBe(false);
    } finally {
      h.clock.now = null;
    }

    // A database that fails: every job is logged, as an error.
    before = h.logs.length;
    const gone = new Proxy(h.ctx.db, {
      get() {
        throw new Error('database gone');
      },
    });
    await runJobs({ ...h.ctx, db: gone });
    const failed = h.logs.slice(before).filter((l) => l.msg === 'job');
    expect(failed).toHaveLength(12);
    for (const line of failed)
      expect(line).toMatchObject({ level: 'error', status: 'failed', error: expect.stringContaining('database gone') });
  });
});

describe('configuration', () => {
  it('names the variable at fault', () => {
    const attempt = (env: Record<string, string>) => {
      try {
        parseConfig(env);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return (error as ConfigError).message;
      }
      throw new Error('expected a configuration error');
    };
    expect(attempt({ PORT: 'eighty' })).toMatch(/PORT/);
    expect(attempt({ DATABASE_URL: 'mysql://x' })).toMatch(/DATABASE_URL/);
    expect(attempt({ JWT_SECRET: 'short' })).toMatch(/JWT_SECRET/);
    expect(attempt({ INTENT_TTL_MINUTES: '0' })).toMatch(/INTENT_TTL_MINUTES/);
    expect(attempt({ LOG_LEVEL: 'loud' })).toMatch(/LOG_LEVEL/);
    expect(attempt({ INDICATOR_SCORING: 'c:1.5:6' })).toMatch(/INDICATOR_SCORING/);
    expect(attempt({ INDICATOR_SCORING: 'd:0.5:6' })).toMatch(/INDICATOR_SCORING/);
    expect(attempt({ INDICATOR_SCORING: 'c:0.3' })).toMatch(/INDICATOR_SCORING/);
    expect(attempt({ INDICATOR_SCORING: 'c:0:6' })).toMatch(/INDICATOR_SCORING/);
    expect(attempt({ INDICATOR_B_NUMERATOR: 'flags' })).toMatch(/INDICATOR_B_NUMERATOR/);
    expect(attempt({ DVCQG_SYNC_COLLECTION_FORMS: 'direct:1,online:2' })).toMatch(/DVCQG_SYNC_COLLECTION_FORMS/);
    expect(attempt({ DVCQG_SYNC_COLLECTION_FORMS: 'direct:x,online:2,postal:3' })).toMatch(/DVCQG_SYNC_COLLECTION_FORMS/);
  });

  it("reads the 766 scoring curves and sources, keeping the domain file's defaults for what it does not set", () => {
    const defaults = parseConfig({});
    expect(defaults.indicators).toEqual({
      scoring: {
        procedureOnlinePayment: { threshold: '0.8', maxPoints: '2' },
        procedureIntegration: { threshold: '0.8', maxPoints: '2' },
        dossierOnlinePayment: { threshold: '1', maxPoints: '6' },
      },
      integrationSource: 'dossiers',
    });
    expect(defaults.collectionForms).toEqual({ direct: 1, online: 2, postal: 3 });
    const vendor = parseConfig({
      INDICATOR_SCORING: ' c:0.3:6 , a:0.75:2.5',
      INDICATOR_B_NUMERATOR: 'catalogue',
      DVCQG_SYNC_COLLECTION_FORMS: 'direct:1,online:3,postal:2',
    });
    expect(vendor.indicators.scoring.dossierOnlinePayment).toEqual({ threshold: '0.3', maxPoints: '6' });
    expect(vendor.indicators.scoring.procedureOnlinePayment).toEqual({ threshold: '0.75', maxPoints: '2.5' });
    expect(vendor.indicators.scoring.procedureIntegration).toEqual({ threshold: '0.8', maxPoints: '2' });
    expect(vendor.indicators.integrationSource).toBe('catalogue');
    expect(vendor.collectionForms).toEqual({ direct: 1, online: 3, postal: 2 });
  });

  it('defaults to the embedded database and splits secret lists', () => {
    const config = parseConfig({ SANDBOX_SECRETS: 'new-secret, old-secret' });
    expect(config.database.kind).toBe('embedded');
    expect(config.sandbox?.secrets).toEqual(['new-secret', 'old-secret']);
    expect(config.publicBaseUrl).toBe('http://localhost:3000');
    expect(parseConfig({ DATABASE_URL: 'postgres://u@db:5432/hub' }).database.kind).toBe('server');
  });
});
