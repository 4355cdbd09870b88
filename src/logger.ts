// The pino root logger. Modules take child loggers with { module }; requests add { requestId }.
// Secrets and PII never reach a log line: credentials are redacted, bodies are not logged.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'customer360' },
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'password', 'token', 'secret', '*.password', '*.secret'],
      censor: '[redacted]',
    },
  });
}
