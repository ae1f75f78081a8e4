/**
 * `npm run token -- --role <role> [--agency <code> ...] [--subject <sub>] [--ttl <seconds>]`
 * Prints a token (only the token, on one line) that the hub as `npm start` runs it accepts: the
 * embedded mode's generated secret, or JWT_SECRET when one is configured.
 */
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { exitOnConfigError, loadConfig, resolveSecrets } from '../src/node/runtime.ts';
import { AGENCY_CODE_PATTERN, roles } from '../src/services/principal.ts';

const { values } = parseArgs({
  options: {
    role: { type: 'string' },
    agency: { type: 'string', multiple: true, default: [] },
    subject: { type: 'string' },
    ttl: { type: 'string', default: '28800' },
  },
  strict: true,
});

function fail(message: string): never {
  console.error(`token: ${message}`);
  console.error(
    'usage: npm run token -- --role <portal|treasury|campaign|admin> [--agency <code> ...] [--subject <sub>] [--ttl <seconds>]',
  );
  process.exit(64);
}

const role = values.role;
if (!role || !(roles as readonly string[]).includes(role)) fail(`--role must be one of ${roles.join(', ')}`);
/** The demo data's province: the whole demo tree, when no --agency narrows the scope. */
const DEMO_PROVINCE = '000.00.00.H19';
const agencies = values.agency?.length ? values.agency : role === 'admin' ? [] : [DEMO_PROVINCE];
for (const code of agencies) if (!AGENCY_CODE_PATTERN.test(code)) fail(`invalid agency code ${code}`);
if (role !== 'admin' && !values.agency?.length) console.error(`token: no --agency given; scope is the demo province ${DEMO_PROVINCE}`);
const ttl = Number(values.ttl);
if (!Number.isInteger(ttl) || ttl <= 0) fail('--ttl must be a positive number of seconds');

const config = loadConfig();
const secrets = await resolveSecrets(config).catch(exitOnConfigError);
if (!secrets.jwtSecret) fail('the hub verifies tokens with a JWKS here; mint them with the identity provider instead');

const token = await new SignJWT({ role, agencies })
  .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
  .setSubject(values.subject ?? `${role}-cli`)
  .setIssuer(config.auth.issuer)
  .setAudience(config.auth.audience)
  .setIssuedAt()
  .setExpirationTime(Math.floor(Date.now() / 1000) + ttl)
  .sign(new TextEncoder().encode(secrets.jwtSecret));
process.stdout.write(`${token}\n`);
