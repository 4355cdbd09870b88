// npm run token -- --role admin --business <id> [--subject name] [--expires 24h]
// Prints a signed API token for the configured JWT secret, audience and issuer.
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { ROLES, TokenService } from '../src/auth/tokens.js';
import { loadConfig } from '../src/config.js';

const { values } = parseArgs({
  options: {
    role: { type: 'string', default: 'admin' },
    business: { type: 'string' },
    subject: { type: 'string', default: 'dev-user' },
    expires: { type: 'string' },
  },
});
const args = z
  .object({
    role: z.enum(ROLES),
    business: z.uuid({ message: '--business must be a business id (npm run business -- list)' }),
    subject: z.string().min(1),
    expires: z.string().regex(/^\d+[smhd]$/, '--expires must look like 15m, 24h or 7d').optional(),
  })
  .safeParse(values);
if (!args.success) {
  console.error(args.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n'));
  console.error('usage: npm run token -- --role admin|staff|analyst|service --business <id> [--subject name] [--expires 24h]');
  process.exit(1);
}
const config = loadConfig();
const tokens = new TokenService(config.jwt);
process.stdout.write(
  `${tokens.sign({ subject: args.data.subject, role: args.data.role, businessId: args.data.business }, args.data.expires)}\n`,
);
