import { describe, expect, it } from 'vitest';
import { parseJsonObject } from '../../src/gateways/json.ts';

describe('parseJsonObject (every adapter reads gateway bodies through it)', () => {
  it('gives the object of a JSON object', () => {
    expect(parseJsonObject('{"RspCode":"00","n":1}')).toEqual({ RspCode: '00', n: 1 });
  });

  it.each(['', 'not json', '[1,2]', 'null', '"text"', '42', '{"a":'])('gives undefined, never throws, for %j', (text) => {
    expect(parseJsonObject(text)).toBeUndefined();
  });
});
