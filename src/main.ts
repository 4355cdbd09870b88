// Entry point: `npm start` (API) and `npm run worker` (projector and schedules) load the config, starts the service and stops it cleanly on
// SIGINT/SIGTERM.
import { loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { startService } from './service.js';

const config = loadConfig();
const logger = createLogger(config.log.level);

try {
  const service = await startService(config, logger, process.argv.includes('--worker') ? 'worker' : 'api');
  if (service.demo) {
    // The one line meant for a person at a terminal: how to call the API right away.
    process.stdout.write(
      `\nDemo business ${service.demo.businessId}\n` +
        `Try: curl -H "Authorization: Bearer ${service.demo.token}" ${service.url}/api/v1/customers\n\n`,
    );
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    void service.close().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
} catch (err) {
  logger.fatal({ err }, 'failed to start');
  process.exit(1);
}
