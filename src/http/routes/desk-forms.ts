import type { Context } from 'hono';
import type { z } from 'zod';
import { ServiceError } from '../../services/errors.ts';
import type { FormError } from '../../web/treasury/models.ts';
import type { AppEnv } from '../env.ts';
import { statusOf, zodIssues } from '../problem.ts';

/* What the treasury's pages share: reading GET filters and POST forms, and showing a refusal on the form. */

/** Query values as a GET form sends them: an empty field is no filter. */
export function queryOf(c: Context<AppEnv>): Record<string, string> {
  return Object.fromEntries(Object.entries(c.req.query()).filter(([, v]) => v.trim() !== ''));
}

export function parse<S extends z.ZodType>(schema: S, value: unknown, prefix: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ServiceError('validation-failed', 'the address is not valid', zodIssues(parsed.error, prefix));
  return parsed.data;
}

export const PAGE_SIZE = 50;

export const subjectOf = (actor: string | null) => actor?.split(':').slice(1).join(':') ?? null;

/** A service's refusal, as the flash area shows it, with the fields named as the form names them. */
export function formError(error: unknown): FormError | undefined {
  if (!(error instanceof ServiceError) || statusOf(error.code) >= 500 || error.code === 'unauthenticated') return undefined;
  return {
    title: 'Không thực hiện được',
    detail: error.message,
    fields: error.fields.map((f) => ({ path: f.path.replace(/^form\./, ''), message: f.message })),
  };
}

export const text = (form: Record<string, unknown>, name: string) => (typeof form[name] === 'string' ? (form[name] as string).trim() : '');

/** "135.000", "135 000" or "135000" as typed by a person: integer VND, or the text as it was (the schema then refuses it). */
export function amountOf(typed: string): number | string | undefined {
  if (typed === '') return undefined;
  const digits = typed.replace(/[.\s]/g, '').replace(/đ$/i, '');
  return /^\d{1,16}$/.test(digits) ? Number(digits) : typed;
}
