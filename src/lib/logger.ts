import { pino, type Logger, type LoggerOptions, type DestinationStream } from 'pino';

export type { Logger };

export function createLogger(options: { level?: string; name?: string } = {}, destination?: DestinationStream): Logger {
  const opts: LoggerOptions = {
    level: options.level ?? 'info',
    name: options.name ?? 'shuxiang',
    redact: { paths: ['*.secret', '*.token', '*.appSecret', '*.clientSecret'], censor: '[redacted]' },
  };
  return destination ? pino(opts, destination) : pino(opts);
}

/** A logger that drops everything; for tests that do not read logs. */
export function createSilentLogger(): Logger {
  return pino({ level: 'silent' });
}
