import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db/types.ts';
import { AGENCIES, createProcedure, dossierBody, seedAgencyTree } from '../helpers/factories.ts';
import { createHarness, type Harness, json, mintToken } from '../helpers/harness.ts';

/**
 * A dossier code starts with its receiving unit (issue 14): agency A could register a code of
 * agency B's series, after which B could not register its own dossier, and B's 404 told it the
 * code existed elsewhere. The prefix must now be an agency of the caller's scope, checked before
 * anything is looked up by the code.
 */
let h: Harness;
let procedure: string;
let tokenA: string;
let tokenB: string;
beforeAll(async () => {
  h = await createHarness();
  await seedAgencyTree(h.ctx);
  procedure = await createProcedure(h.ctx);
  tokenA = await mintToken({ role: 'portal', agencies: [AGENCIES.communeA], subject: 'portal-a' });
  tokenB = await mintToken({ role: 'portal', agencies: [AGENCIES.communeB], subject: 'portal-b' });
});
afterAll(() => h?.close());

const count = async (code: string) =>
  (await queryRows<{ n: number }>(h.db.db, sql`SELECT count(*)::int AS n FROM dossiers WHERE code = ${code}`))[0]!.n;

describe("a dossier code's receiving unit", () => {
  it("refuses agency A a code of agency B's series with 422, writes nothing, and B registers it", async () => {
    const code = `${AGENCIES.communeB}-261120-0042`;
    const res = await h.request('PUT', `/v1/dossiers/${code}`, {
      token: tokenA,
      body: dossierBody(procedure, { agencyCode: AGENCIES.communeA }),
    });
    expect(res.status).toBe(422);
    const problem = await json(res);
    expect(problem.code).toBe('dossier-code-out-of-scope');
    expect(problem.detail).toContain(AGENCIES.communeB);
    expect(problem.errors).toEqual([{ path: 'code', message: expect.stringContaining('agency code of your scope') }]);
    expect(await count(code)).toBe(0);
    const mine = await h.request('PUT', `/v1/dossiers/${code}`, {
      token: tokenB,
      body: dossierBody(procedure, { agencyCode: AGENCIES.communeB }),
    });
    expect(mine.status).toBe(201);
  });

  it('answers the same whether or not a dossier with that code exists elsewhere', async () => {
    const existing = `${AGENCIES.communeB}-261120-0042`;
    const absent = `${AGENCIES.communeB}-261120-0043`;
    const body = dossierBody(procedure, { agencyCode: AGENCIES.communeA });
    const [a, b] = await Promise.all([
      h.request('PUT', `/v1/dossiers/${existing}`, { token: tokenA, body }),
      h.request('PUT', `/v1/dossiers/${absent}`, { token: tokenA, body }),
    ]);
    const [pa, pb] = [await json(a), await json(b)];
    expect([a.status, b.status]).toEqual([422, 422]);
    expect(pa.code).toBe(pb.code);
    expect(pa.detail).toBe(pb.detail);
    // Reading it: the same 404 as a code that does not exist.
    const [ra, rb] = await Promise.all([
      h.request('GET', `/v1/dossiers/${existing}`, { token: tokenA }),
      h.request('GET', `/v1/dossiers/${absent}`, { token: tokenA }),
    ]);
    expect([ra.status, rb.status]).toEqual([404, 404]);
    expect((await json(ra)).code).toBe((await json(rb)).code);
  });

  it("accepts a code of a unit below the caller's agency, refuses one of another province", async () => {
    const province = await mintToken({ role: 'portal', agencies: [AGENCIES.province], subject: 'portal-province' });
    const below = await h.request('PUT', `/v1/dossiers/${AGENCIES.communeA}-261121-0001`, {
      token: province,
      body: dossierBody(procedure, { agencyCode: AGENCIES.communeA }),
    });
    expect(below.status).toBe(201);
    const outside = await h.request('PUT', `/v1/dossiers/${AGENCIES.otherProvince}-261121-0001`, {
      token: province,
      body: dossierBody(procedure, { agencyCode: AGENCIES.communeA }),
    });
    expect(outside.status).toBe(422);
    const admin = await mintToken({ role: 'admin', subject: 'hub-admin' });
    const otherProvince = await h.request('PUT', `/v1/dossiers/${AGENCIES.otherProvince}-261121-0001`, {
      token: admin,
      body: dossierBody(procedure, { agencyCode: AGENCIES.otherProvince }),
    });
    expect(otherProvince.status, await otherProvince.clone().text()).toBe(201);
    const unknown = await h.request('PUT', '/v1/dossiers/999.99.99.H99-261121-0001', {
      token: admin,
      body: dossierBody(procedure, { agencyCode: AGENCIES.otherProvince }),
    });
    expect(unknown.status).toBe(422);
    expect((await json(unknown)).code).toBe('dossier-code-out-of-scope');
  });
});
