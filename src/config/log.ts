import pino, { type Logger } from 'pino';
import type { Env } from './env.ts';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Structured logs (JSON lines on stderr) for operators; off unless USERSYNC_LOG_LEVEL is set (the service logs at info), so the
 * command line's own output (a summary, or one line on failure) stays as the contract says.
 * Anything that could carry a secret is redacted by key.
 */
export function createLogger(env: Env = process.env, defaultLevel = 'silent'): Logger {
  const level = env.USERSYNC_LOG_LEVEL?.trim().toLowerCase() || defaultLevel;
  if (!LEVELS.includes(level))
    throw new Error(`USERSYNC_LOG_LEVEL must be one of ${LEVELS.join(', ')} (got "${env.USERSYNC_LOG_LEVEL}").`);
  return pino(
    {
      level,
      base: { service: 'usersync' },
      redact: {
        paths: [
          '*.secret',
          '*.clientSecret',
          '*.client_secret',
          '*.password',
          '*.authorization',
          '*.token',
          '*.accessToken',
          '*.certificatePem',
          '*.privateKeyPem',
          '*.certificatePassword',
          '*.credential',
          '*.csrfToken',
          '*.cookie',
        ],
        censor: '[redacted]',
      },
    },
    pino.destination(2),
  );
}
