import { expect } from 'vitest';
import { json } from './harness.ts';

/**
 * Asserts the error contract (DESIGN.md invariant 6): the status, application/problem+json, a
 * stable `code`, and the request id in the body equal to the x-request-id header.
 */
export async function expectProblem(response: Response, status: number, code?: string): Promise<Record<string, any>> {
  const text = await response.text();
  expect(response.status, text.slice(0, 400)).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = JSON.parse(text);
  expect(body.status).toBe(status);
  if (code) expect(body.code, body.detail).toBe(code);
  expect(typeof body.code).toBe('string');
  expect(typeof body.requestId).toBe('string');
  expect(body.requestId.length).toBeGreaterThan(0);
  expect(body.requestId).toBe(response.headers.get('x-request-id'));
  return body;
}

/** Reads a 2xx JSON answer, failing with the body when the status is not the expected one. */
export async function expectJson<T = any>(response: Response, status: number): Promise<T> {
  if (response.status !== status) {
    throw new Error(`expected ${status}, got ${response.status}: ${(await response.text()).slice(0, 500)}`);
  }
  return json<T>(response);
}
