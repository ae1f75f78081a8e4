// TEMPORARY (lead): replaced by the `lists` branch's review-views.ts at merge.
import { z } from '@hono/zod-openapi';
import { eq } from 'drizzle-orm';
import { paymentReviews } from '../db/schema/index.ts';
import { executor, type ServiceContext } from './context.ts';
import { notFound } from './errors.ts';
import type { Principal } from './principal.ts';

export const EXAMPLE_REVIEW_ID = '0193a6f2-5b1c-7d3e-9f40-2a6b8c1d4e5f';
export const ReviewDetailSchema = z.object({ id: z.uuid(), status: z.string() }).passthrough().openapi('PaymentReviewDetail');
export const reviewDetailExample = { id: EXAMPLE_REVIEW_ID, status: 'resolved' };

export async function getReviewDetail(ctx: ServiceContext, _principal: Principal, id: string) {
  const [row] = await executor(ctx).select().from(paymentReviews).where(eq(paymentReviews.id, id));
  if (!row) throw notFound(`payment review ${id}`);
  return row as unknown as z.infer<typeof ReviewDetailSchema>;
}
