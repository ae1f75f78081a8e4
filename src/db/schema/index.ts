export * from './agencies.ts';
export * from './callbacks.ts';
export * from './dossiers.ts';
export * from './indicators.ts';
export * from './payments.ts';
export * from './procedures.ts';
export * from './receipts.ts';
export * from './reviews.ts';
