import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import { ServiceError } from '../../services/errors.ts';
import { getStatement, importStatement, listStatementLines, listStatements } from '../../services/statements.ts';
import type { AppEnv } from '../env.ts';
import { allow, principalOf } from '../middleware/auth.ts';
import { errorResponses, IDEMPOTENT, SECURED, WRITES } from '../openapi-errors.ts';
import { idempotencyHeaders, requireIdempotencyKey } from '../schemas.ts';
import { MISSING_FIELD, parseMapping, withStatementUpload } from '../statement-upload.ts';

const EXAMPLE_STATEMENT_ID = '5f0c2a1e-8d3b-4c7a-9e21-6b4d8f1a2c3e';
/** A text field (source, date, mapping) is small: read whole, up to this. */

const RejectedLineSchema = z.object({ line: z.number().int(), reason: z.string() }).openapi('StatementRejectedLine');

const statementStatus = z.enum(['importing', 'current', 'superseded', 'failed']);

const ImportResultSchema = z
  .object({
    id: z.uuid(),
    source: z.string(),
    date: z.string(),
    status: statementStatus,
    repeat: z.boolean().openapi({
      description: 'The same file (content hash) was imported before for this source and day: nothing changed, `id` is that statement',
    }),
    linesTotal: z.number().int(),
    linesImported: z.number().int(),
    linesRejected: z.number().int(),
    rejected: z
      .array(RejectedLineSchema)
      .openapi({ description: 'The first 100 rejected lines, numbered as in the file (a CSV header is line 1)' }),
    rejectedLink: z.string().nullable().openapi({ description: 'Every rejected line, a page at a time' }),
    creditTotal: z
      .number()
      .int()
      .openapi({ description: 'Integer VND of the readable credit lines (a gateway line only when paid, or paid and refunded since)' }),
    debitTotal: z.number().int(),
    contentHash: z.string().openapi({ description: "SHA-256 (hex) of the file's bytes" }),
    replaced: z.uuid().optional().openapi({ description: 'The statement this one replaced (now `superseded`)' }),
  })
  .openapi('StatementImport');

const importExample = {
  id: EXAMPLE_STATEMENT_ID,
  source: 'bank:0071000123456',
  date: '2026-12-03',
  status: 'current',
  repeat: false,
  linesTotal: 3,
  linesImported: 2,
  linesRejected: 1,
  rejected: [{ line: 9, reason: 'amount "135.5" has a fraction of a đồng' }],
  rejectedLink: `/v1/statements/${EXAMPLE_STATEMENT_ID}/lines?rejected=true`,
  creditTotal: 270000,
  debitTotal: 0,
  contentHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
};

const StatementSchema = z
  .object({
    id: z.uuid(),
    source: z.string(),
    date: z.string(),
    agencyCode: z.string(),
    format: z.string().openapi({
      description: "The reader used: the source's own format (`vnpay`, `dvcqg`, `sandbox`, `bank`) or `csv`/`xlsx` with `mapping`",
    }),
    fileName: z.string().nullable(),
    contentHash: z.string(),
    mapping: z.record(z.string(), z.string()).nullable(),
    status: statementStatus,
    linesTotal: z.number().int(),
    linesImported: z.number().int(),
    linesRejected: z.number().int(),
    creditTotal: z.number().int(),
    debitTotal: z.number().int(),
    supersededBy: z.uuid().nullable(),
    uploadedBy: z.string(),
    createdAt: z.string(),
    completedAt: z.string().nullable(),
  })
  .openapi('Statement');

const statementExample = {
  id: EXAMPLE_STATEMENT_ID,
  source: 'bank:0071000123456',
  date: '2026-12-03',
  agencyCode: '000.21.32.H19',
  format: 'bank',
  fileName: 'saoke-03-12.csv',
  contentHash: importExample.contentHash,
  mapping: null,
  status: 'current',
  linesTotal: 3,
  linesImported: 2,
  linesRejected: 1,
  creditTotal: 270000,
  debitTotal: 0,
  supersededBy: null,
  uploadedBy: 'treasury:thu-quy-lan',
  createdAt: '2026-12-03T11:02:00.000Z',
  completedAt: '2026-12-03T11:02:01.000Z',
};

const StatementLineSchema = z
  .object({
    line: z.number().int(),
    transactionId: z.string().nullable(),
    reference: z.string().nullable(),
    amount: z.number().int().nullable(),
    occurredAt: z.string().nullable(),
    text: z.string().nullable(),
    direction: z.enum(['credit', 'debit']).nullable(),
    status: z.enum(['paid', 'failed', 'refunded', 'pending']).nullable(),
    error: z.string().nullable().openapi({ description: 'Why the line was rejected; null for a readable line' }),
  })
  .openapi('StatementLine');

const multipartSchema = {
  type: 'object' as const,
  required: ['source', 'date', 'file'],
  properties: {
    source: {
      type: 'string' as const,
      description: 'A gateway id (`vnpay`, `dvcqg`, `sandbox`) or `bank:<account number>`',
      example: 'bank:0071000123456',
    },
    date: { type: 'string' as const, format: 'date', description: 'The business date (Asia/Ho_Chi_Minh)', example: '2026-12-03' },
    mapping: {
      type: 'string' as const,
      description:
        "JSON object naming the column header of each of `transactionId`, `reference`, `amount`, `time`, `text`, `direction` in a generic file (absent ones are unknown); without it, the source's own format",
      example: '{"amount":"Số tiền","time":"Ngày","text":"Diễn giải","transactionId":"Số CT"}',
    },
    file: {
      type: 'string' as const,
      format: 'binary',
      description: 'The statement: CSV (UTF-8, with or without BOM; `,` `;` or tab) or XLSX (first sheet)',
    },
  },
};

const importRoute = createRoute({
  method: 'post',
  path: '/v1/statements',
  operationId: 'importStatement',
  tags: ['Statements'],
  summary: "Import a source's statement for a business day (multipart upload, streamed)",
  description:
    'The fields `source`, `date` and (optional) `mapping` come before `file` (the file is read as it arrives, so what it is must be known first). ' +
    'Every line is kept, numbered as in the file: a line that cannot be read is rejected with its reason and never matched. The same file again for the same source and day (same SHA-256) ' +
    'changes nothing and answers 200 with `repeat: true` and the earlier statement; a different one replaces the current statement while the day is open (201, `replaced`; the earlier one is kept, `superseded`), ' +
    "409 `day-closed` once the day is closed. The source's agency must be in the caller's scope. Files up to STATEMENT_MAX_BYTES (default 200 MB); XLSX only where the hub has a spreadsheet reader (Node). Idempotent by Idempotency-Key.",
  security: [{ bearerAuth: [] }],
  middleware: [allow('treasury', 'admin')] as const,
  request: {
    headers: idempotencyHeaders('statement-0312-bank'),
    // A plain schema, not zod: the body is streamed by the handler, never buffered by a validator.
    body: {
      required: true,
      content: {
        'multipart/form-data': {
          schema: multipartSchema,
          example: { source: 'bank:0071000123456', date: '2026-12-03', file: '(saoke-03-12.csv)' },
        },
      },
    },
  },
  responses: {
    201: {
      description: 'Imported (and, with `replaced`, the current statement now)',
      content: { 'application/json': { schema: ImportResultSchema, example: importExample } },
    },
    200: {
      description: 'A repeat of a file already imported: nothing changed',
      content: { 'application/json': { schema: ImportResultSchema, example: { ...importExample, repeat: true } } },
    },
    ...errorResponses([
      ...SECURED,
      ...IDEMPOTENT,
      ...WRITES,
      'unsupported-media-type',
      'payload-too-large',
      'unknown-source',
      'statement-unreadable',
      'day-closed',
    ]),
  },
});

const listRoute = createRoute({
  method: 'get',
  path: '/v1/statements',
  operationId: 'listStatements',
  tags: ['Statements'],
  summary: 'Statements of a source and/or day, newest first',
  description: "In the caller's scope (the agency owning each source); superseded ones included, with `supersededBy`. At most 200.",
  security: [{ bearerAuth: [] }],
  middleware: [allow('treasury', 'admin')] as const,
  request: {
    query: z.object({
      source: z.string().max(60).optional().openapi({ example: 'vnpay' }),
      date: z.string().max(10).optional().openapi({ example: '2026-12-03' }),
    }),
  },
  responses: {
    200: {
      description: 'The statements',
      content: {
        'application/json': {
          schema: z.object({ items: z.array(StatementSchema) }).openapi('StatementList'),
          example: { items: [statementExample] },
        },
      },
    },
    ...errorResponses([...SECURED, 'unknown-source']),
  },
});

const idParams = z.object({
  id: z.uuid().openapi({ param: { name: 'id', in: 'path' }, description: 'The statement', example: EXAMPLE_STATEMENT_ID }),
});

const getRoute = createRoute({
  method: 'get',
  path: '/v1/statements/{id}',
  operationId: 'getStatement',
  tags: ['Statements'],
  summary: 'One statement: its counts and totals',
  description: "Outside the caller's scope: 404, as for none.",
  security: [{ bearerAuth: [] }],
  middleware: [allow('treasury', 'admin')] as const,
  request: { params: idParams },
  responses: {
    200: { description: 'The statement', content: { 'application/json': { schema: StatementSchema, example: statementExample } } },
    ...errorResponses([...SECURED, 'not-found']),
  },
});

const linesRoute = createRoute({
  method: 'get',
  path: '/v1/statements/{id}/lines',
  operationId: 'listStatementLines',
  tags: ['Statements'],
  summary: "A statement's lines in file order, a page at a time",
  description:
    '`rejected=true` keeps only the lines that could not be read (with their reasons), `false` only the readable ones. `limit` per page (default 100, at most 1000) and the opaque `nextCursor`.',
  security: [{ bearerAuth: [] }],
  middleware: [allow('treasury', 'admin')] as const,
  request: {
    params: idParams,
    query: z.object({
      rejected: z.enum(['true', 'false']).optional(),
      cursor: z.string().max(200).optional(),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
    }),
  },
  responses: {
    200: {
      description: 'A page of lines',
      content: {
        'application/json': {
          schema: z.object({ items: z.array(StatementLineSchema), nextCursor: z.string().nullable() }).openapi('StatementLinePage'),
          example: {
            items: [
              {
                line: 9,
                transactionId: 'FT26337000123',
                reference: null,
                amount: null,
                occurredAt: '2026-12-03T02:15:00.000Z',
                text: 'HP7K2M9Q NOP LE PHI',
                direction: 'credit',
                status: null,
                error: 'amount "135.5" has a fraction of a đồng',
              },
            ],
            nextCursor: null,
          },
        },
      },
    },
    ...errorResponses([...SECURED, 'not-found']),
  },
});

export function registerStatementRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(importRoute, async (c) => {
    const key = requireIdempotencyKey(c.req.valid('header'));
    const result = await withStatementUpload(c.req.raw, ['source', 'date', 'mapping'], async (fields, file) => {
      const missing = ['source', 'date'].filter((name) => fields[name] === undefined);
      if (missing.length > 0)
        throw new ServiceError('validation-failed', 'send the fields source and date before the file', missing.map(MISSING_FIELD));
      return importStatement(c.get('ctx'), principalOf(c), {
        source: fields.source!,
        date: fields.date!,
        mapping: fields.mapping ? parseMapping(fields.mapping) : undefined,
        fileName: file.fileName,
        format: file.format,
        body: file.body,
        idempotencyKey: key,
      });
    });
    return c.json(result.body, result.status);
  });

  app.openapi(listRoute, async (c) => {
    const query = c.req.valid('query');
    return c.json({ items: await listStatements(c.get('ctx'), principalOf(c), query) }, 200);
  });

  app.openapi(getRoute, async (c) => c.json(await getStatement(c.get('ctx'), principalOf(c), c.req.valid('param').id), 200));

  app.openapi(linesRoute, async (c) => {
    const { rejected, cursor, limit } = c.req.valid('query');
    const page = await listStatementLines(c.get('ctx'), principalOf(c), c.req.valid('param').id, {
      rejected: rejected === undefined ? undefined : rejected === 'true',
      cursor,
      limit,
    });
    return c.json(page, 200);
  });
}
