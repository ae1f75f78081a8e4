import { putProcedure } from '../src/services/catalogue.ts';
import type { ServiceContext } from '../src/services/context.ts';

/** The benchmarks' province, commune and procedure: the demo's (Đồng Nai), a driving-licence renewal. */
export const BENCH_PROVINCE = '000.00.00.H19';
export const BENCH_COMMUNE = '000.21.32.H19';
export const BENCH_PROCEDURE = '3.000347';

/** The procedure the benchmarks' dossiers are of (its fee rules are each benchmark's own). */
export function putBenchProcedure(ctx: ServiceContext) {
  return putProcedure(ctx, BENCH_PROCEDURE, {
    name: 'Đổi giấy phép lái xe',
    field: 'Giấy phép lái xe',
    level: 'tỉnh',
    integratedOnlinePayment: true,
    dataConfidence: 'confirmed',
    note: null,
  });
}
