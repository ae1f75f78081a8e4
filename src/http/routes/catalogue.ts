import { createRoute, type OpenAPIHono, z } from '@hono/zod-openapi';
import {
  addFeeRule,
  getProcedure,
  listAgencies,
  listProcedures,
  putProcedure,
  updateAgencySettings,
  updateFeeRule,
} from '../../services/catalogue.ts';
import { CATALOGUE_COLUMNS, CATALOGUE_FILE_MAX_BYTES } from '../../services/catalogue-file.ts';
import { importCatalogue } from '../../services/catalogue-import.ts';
import type { AppEnv } from '../env.ts';
import {
  agenciesExample,
  EXAMPLE_FEE_RULE_ID,
  feeRuleExample,
  feeRuleInputExample,
  procedureExample,
  procedureInputExample,
} from '../examples.ts';
import { allow, principalOf } from '../middleware/auth.ts';
import { errorResponses, JSON_BODY, SECURED, WRITES } from '../openapi-errors.ts';
import {
  AgencySchema,
  AgencySettingsInputSchema,
  agencyCode,
  FeeRuleInputSchema,
  FeeRuleSchema,
  ProcedureInputSchema,
  ProcedureSchema,
  procedureCode,
} from '../schemas.ts';
import { withStatementUpload } from '../statement-upload.ts';

const everyone = allow('portal', 'treasury', 'campaign', 'admin');
const codeParams = z.object({ code: procedureCode.openapi({ param: { name: 'code', in: 'path' } }) });

const listAgenciesRoute = createRoute({
  method: 'get',
  path: '/v1/agencies',
  operationId: 'listAgencies',
  tags: ['Catalogue'],
  summary: 'The agencies of your scope (the whole tree for an admin), parents first',
  description:
    'The subtrees of the agencies in your token, each agency with its parent and depth; closed agencies (merged in the 2025 reorganisation) carry `validTo` and `mergedInto`.',
  security: [{ bearerAuth: [] }],
  middleware: [everyone] as const,
  responses: {
    200: {
      description: 'Agencies',
      content: { 'application/json': { schema: z.object({ items: z.array(AgencySchema) }), example: agenciesExample } },
    },
    ...errorResponses(SECURED),
  },
});

const agencySettingsRoute = createRoute({
  method: 'patch',
  path: '/v1/agencies/{code}',
  operationId: 'updateAgencySettings',
  tags: ['Catalogue'],
  summary: "Set an agency's own settings (admin)",
  description:
    "`issuesCounterReceipts`: whether payments recorded at its counter (POST /v1/dossiers/{code}/offline-payments) get the hub's e-receipt; " +
    "when false the paper receipt's number is kept instead. `address`, `taxCode`: what every receipt of the agency prints as its collecting organisation's (Decree 254/2026/NĐ-CP Art. 23). " +
    '`receiptFormSymbol`, `receiptSeriesSymbol`: its registered symbols (null: the configured defaults, `EBL01` and the year + `T` + letters); a series symbol that starts with two digits carries its year there. ' +
    "`receiptDelegation`: the written delegation under which the hub issues its receipts with the hub's key (printed with the hub's operator as issuer). " +
    'Only the fields given change; each change is audited. Applies to receipts issued from then on: an issued receipt never changes.',
  security: [{ bearerAuth: [] }],
  middleware: [allow('admin')] as const,
  request: {
    params: z.object({ code: agencyCode.openapi({ param: { name: 'code', in: 'path' }, example: '000.00.15.H19' }) }),
    body: {
      required: true,
      content: { 'application/json': { schema: AgencySettingsInputSchema, example: { issuesCounterReceipts: true } } },
    },
  },
  responses: {
    200: {
      description: 'The agency',
      content: { 'application/json': { schema: AgencySchema, example: { ...agenciesExample.items[1]!, issuesCounterReceipts: true } } },
    },
    ...errorResponses([...SECURED, ...JSON_BODY, ...WRITES, 'not-found']),
  },
});

const listProceduresRoute = createRoute({
  method: 'get',
  path: '/v1/procedures',
  operationId: 'listProcedures',
  tags: ['Catalogue'],
  summary: 'Procedures (TTHC) with their fee rules',
  description:
    'The catalogue, each procedure with every fee rule (past, current and future validity) and whether it is fee-bearing as the national portal counts it.',
  security: [{ bearerAuth: [] }],
  middleware: [everyone] as const,
  request: {
    query: z.object({
      field: z.string().max(200).optional().openapi({ description: 'Only the procedures of this field', example: 'Giấy phép lái xe' }),
    }),
  },
  responses: {
    200: {
      description: 'Procedures',
      content: { 'application/json': { schema: z.object({ items: z.array(ProcedureSchema) }), example: { items: [procedureExample] } } },
    },
    ...errorResponses(SECURED),
  },
});

const getProcedureRoute = createRoute({
  method: 'get',
  path: '/v1/procedures/{code}',
  operationId: 'getProcedure',
  tags: ['Catalogue'],
  summary: 'One procedure with its fee rules',
  description: 'The procedure by its national code, with all its fee rules.',
  security: [{ bearerAuth: [] }],
  middleware: [everyone] as const,
  request: { params: codeParams },
  responses: {
    200: { description: 'The procedure', content: { 'application/json': { schema: ProcedureSchema, example: procedureExample } } },
    ...errorResponses(SECURED),
  },
});

const putProcedureRoute = createRoute({
  method: 'put',
  path: '/v1/procedures/{code}',
  operationId: 'putProcedure',
  tags: ['Catalogue'],
  summary: 'Create or update a procedure (admin)',
  description:
    "The procedure's own fields; its fee rules are added and replaced through `/fee-rules`. Answers 201 when the code is new. " +
    '`receivingLevels` and `receivingUnits` say who receives it (766 indicator b asks a unit only about the procedures it can receive); ' +
    'left out of an update, they stay as they are. Audited.',
  security: [{ bearerAuth: [] }],
  middleware: [allow('admin')] as const,
  request: {
    params: codeParams,
    body: { required: true, content: { 'application/json': { schema: ProcedureInputSchema, example: procedureInputExample } } },
  },
  responses: {
    200: { description: 'Updated', content: { 'application/json': { schema: ProcedureSchema, example: procedureExample } } },
    201: {
      description: 'Created',
      content: { 'application/json': { schema: ProcedureSchema, example: { ...procedureExample, feeRules: [] } } },
    },
    ...errorResponses([...SECURED, ...JSON_BODY, ...WRITES, 'unknown-agency']),
  },
});

const addFeeRuleRoute = createRoute({
  method: 'post',
  path: '/v1/procedures/{code}/fee-rules',
  operationId: 'addFeeRule',
  tags: ['Catalogue'],
  summary: 'Add a fee rule to a procedure (admin). Rules are retired by ending their validity, never deleted.',
  description:
    'The formula (fixed, per unit with tiers, percentage, table, exempt), adjustments by channel, dates or payer category, the rounding and the legal basis. Dossiers received on or after `validFrom` are priced with it.',
  security: [{ bearerAuth: [] }],
  middleware: [allow('admin')] as const,
  request: {
    params: codeParams,
    body: { required: true, content: { 'application/json': { schema: FeeRuleInputSchema, example: feeRuleInputExample } } },
  },
  responses: {
    201: { description: 'Added', content: { 'application/json': { schema: FeeRuleSchema, example: feeRuleExample } } },
    ...errorResponses([...SECURED, ...JSON_BODY, ...WRITES, 'not-found']),
  },
});

const updateFeeRuleRoute = createRoute({
  method: 'put',
  path: '/v1/procedures/{code}/fee-rules/{id}',
  operationId: 'updateFeeRule',
  tags: ['Catalogue'],
  summary: 'Replace a fee rule (admin). Obligations already computed keep their amounts.',
  description: 'The whole rule, as when it was added. A dossier registered or updated afterwards is priced with the new rule.',
  security: [{ bearerAuth: [] }],
  middleware: [allow('admin')] as const,
  request: {
    params: codeParams.extend({ id: z.uuid().openapi({ param: { name: 'id', in: 'path' }, example: EXAMPLE_FEE_RULE_ID }) }),
    body: { required: true, content: { 'application/json': { schema: FeeRuleInputSchema, example: feeRuleInputExample } } },
  },
  responses: {
    200: { description: 'Updated', content: { 'application/json': { schema: FeeRuleSchema, example: feeRuleExample } } },
    ...errorResponses([...SECURED, ...JSON_BODY, ...WRITES, 'not-found']),
  },
});

const ImportRowErrorSchema = z
  .object({
    row: z
      .number()
      .int()
      .nullable()
      .openapi({ description: 'The row as the spreadsheet numbers it (the header is row 1); null: the file' }),
    column: z.string().nullable(),
    message: z.string(),
  })
  .openapi('CatalogueImportError');

const ImportChangeSchema = z
  .object({
    row: z.number().int(),
    resource: z.enum(['procedure', 'fee_rule']),
    action: z.enum(['created', 'updated', 'closed']),
    procedureCode: z.string(),
    feeCode: z.string().optional(),
    validFrom: z.string().optional(),
    id: z.uuid().nullable().optional().openapi({ description: "The rule's id (null: a rule the dry run would create)" }),
    fields: z.array(z.string()).openapi({ description: 'The fields that change' }),
    before: z.record(z.string(), z.unknown()).nullable(),
    after: z.record(z.string(), z.unknown()),
  })
  .openapi('CatalogueImportChange');

const counts = (keys: readonly string[]) => z.object(Object.fromEntries(keys.map((k) => [k, z.number().int()])));

const ImportReportSchema = z
  .object({
    dryRun: z.boolean(),
    applied: z.boolean().openapi({ description: 'The changes were made (never with dryRun, never with an error)' }),
    file: z.object({ name: z.string().nullable(), format: z.enum(['csv', 'xlsx']), sha256: z.string(), rows: z.number().int() }),
    summary: z.object({
      procedures: counts(['created', 'updated', 'unchanged']),
      feeRules: counts(['created', 'updated', 'closed', 'unchanged']),
    }),
    changes: z.array(ImportChangeSchema),
    errors: z.array(ImportRowErrorSchema).openapi({ description: 'Per row; an import (not a dry run) with any is refused whole (400)' }),
  })
  .openapi('CatalogueImport');

const importExample: z.infer<typeof ImportReportSchema> = {
  dryRun: true,
  applied: false,
  file: {
    name: 'danh-muc-12-2026.csv',
    format: 'csv',
    sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    rows: 2,
  },
  summary: { procedures: { created: 0, updated: 0, unchanged: 1 }, feeRules: { created: 1, updated: 0, closed: 1, unchanged: 0 } },
  changes: [
    {
      row: 2,
      resource: 'fee_rule',
      action: 'closed',
      procedureCode: '1.004194',
      feeCode: 'LPTMT',
      validFrom: '2023-02-05',
      id: '0b7f8a4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b',
      fields: ['validTo'],
      before: { validTo: null },
      after: { validTo: '2026-08-14' },
    },
    {
      row: 2,
      resource: 'fee_rule',
      action: 'created',
      procedureCode: '1.004194',
      feeCode: 'LPTMT',
      validFrom: '2026-08-15',
      id: null,
      fields: ['kind', 'feeCode', 'name', 'formula', 'validFrom', 'legalBasis'],
      before: null,
      after: { kind: 'le_phi', feeCode: 'LPTMT', name: 'Lệ phí đăng ký tạm trú', formula: { type: 'fixed', amount: 15000 } },
    },
  ],
  errors: [],
};

const importMultipart = {
  type: 'object' as const,
  required: ['file'],
  properties: {
    file: {
      type: 'string' as const,
      format: 'binary',
      description: 'The catalogue: CSV (UTF-8, with or without BOM; `,` `;` or tab) or XLSX (first sheet), a header row naming the columns',
    },
  },
};

const importRoute = createRoute({
  method: 'post',
  path: '/v1/catalogue/imports',
  operationId: 'importCatalogue',
  tags: ['Catalogue'],
  summary: 'Import procedures and fee rules from a CSV or XLSX file (admin); `dryRun=true` shows what would change',
  description:
    "One row per fee rule; a procedure's own columns may be given on any of its rows, or on a row of its own with no `feeCode`. A rule is named by " +
    '(procedureCode, feeCode, validFrom). A new rule closes the rule of its fee code in force before it (its `validTo` becomes the day before); ' +
    'a rule that exists is never overwritten: only what does not price a dossier (name, legal basis, budget codes, collection account, line) ' +
    'changes, or its `validTo` closes it — new amounts are a new rule with its own `validFrom`. Two rules of a fee code are never in force on the same day. ' +
    "A blank cell leaves an existing procedure's value as it is; `-` clears it (note, receiving levels or units). " +
    "`dryRun=true` answers the changes and every row's errors and writes nothing. Otherwise the file is applied whole in one transaction, each change audited " +
    "(and the import itself, with the file's SHA-256), or, with any error, refused (400, the errors by row in `errors` and `rowErrors`) with nothing written. " +
    `Importing the same file again changes nothing. At most ${CATALOGUE_FILE_MAX_BYTES / 1024 / 1024} MB and 10,000 rows; XLSX only where the hub has a spreadsheet reader (Node).\n\n` +
    `Columns: ${CATALOGUE_COLUMNS.map(([name, what]) => `\`${name}\` (${what})`).join('; ')}.`,
  security: [{ bearerAuth: [] }],
  middleware: [allow('admin')] as const,
  request: {
    query: z.object({
      dryRun: z.enum(['true', 'false']).default('false').openapi({ description: 'Only say what would change', example: 'true' }),
    }),
    // A plain schema, not zod: the body is read by the handler, never by a validator.
    body: { required: true, content: { 'multipart/form-data': { schema: importMultipart, example: { file: '(danh-muc-12-2026.csv)' } } } },
  },
  responses: {
    200: {
      description: 'What changed (or, with dryRun, what would), and the errors of a dry run',
      content: { 'application/json': { schema: ImportReportSchema, example: importExample } },
    },
    ...errorResponses([...SECURED, ...WRITES, 'unsupported-media-type', 'payload-too-large']),
  },
});

export function registerCatalogueRoutes(app: OpenAPIHono<AppEnv>) {
  app.openapi(importRoute, async (c) => {
    const dryRun = c.req.valid('query').dryRun === 'true';
    const report = await withStatementUpload(c.req.raw, [], (_, file) =>
      importCatalogue(c.get('ctx'), principalOf(c), { name: file.fileName, format: file.format, body: file.body }, { dryRun }),
    );
    return c.json(report, 200);
  });
  app.openapi(listAgenciesRoute, async (c) => c.json({ items: await listAgencies(c.get('ctx'), principalOf(c)) }, 200));
  app.openapi(agencySettingsRoute, async (c) =>
    c.json(await updateAgencySettings(c.get('ctx'), principalOf(c), c.req.valid('param').code, c.req.valid('json')), 200),
  );
  app.openapi(listProceduresRoute, async (c) => c.json({ items: await listProcedures(c.get('ctx'), c.req.valid('query')) }, 200));
  app.openapi(getProcedureRoute, async (c) => c.json(await getProcedure(c.get('ctx'), c.req.valid('param').code), 200));
  app.openapi(putProcedureRoute, async (c) => {
    const { procedure, created } = await putProcedure(c.get('ctx'), c.req.valid('param').code, c.req.valid('json'), principalOf(c));
    return c.json(procedure, created ? 201 : 200);
  });
  app.openapi(addFeeRuleRoute, async (c) =>
    c.json(await addFeeRule(c.get('ctx'), c.req.valid('param').code, c.req.valid('json'), principalOf(c)), 201),
  );
  app.openapi(updateFeeRuleRoute, async (c) => {
    const { code, id } = c.req.valid('param');
    return c.json(await updateFeeRule(c.get('ctx'), code, id, c.req.valid('json'), principalOf(c)), 200);
  });
}
