/**
 * How a platform's API budget is being spent, as a port: the adapter that
 * counts its calls (DingTalk: 5,000 OpenAPI calls a month on the standard
 * edition) registers a source here; features (`额度`, warnings) read and
 * subscribe through it and never touch an adapter's tables or types.
 */
export interface ApiCalls {
  /** A short label of the API, e.g. `robot.groupSend`. */
  api: string;
  calls: number;
  errors: number;
  /** Whether the platform counts these calls against the quota. */
  counted: boolean;
}

export interface UsageSource {
  platform: string;
  /** Calls allowed per calendar month. */
  monthlyQuota: number;
  /** The month (YYYY-MM in the bot's time zone) that `at` falls in, as the source counts months. */
  monthOf(at: Date): string;
  /** Calls of these tenants in a month, per API. */
  calls(tenants: string[], month: string): Promise<ApiCalls[]>;
}

/** A tenant's counted calls passed a warning level (percent of the quota) this month. */
export interface UsageCrossing {
  platform: string;
  tenant: string;
  month: string;
  used: number;
  limit: number;
  level: number;
}

export interface PlatformUsage {
  register(source: UsageSource): void;
  source(platform: string): UsageSource | undefined;
  /** Adapters report crossings here; every listener hears them. */
  crossed(crossing: UsageCrossing): Promise<void>;
  onCrossing(listener: (crossing: UsageCrossing) => Promise<void>): void;
}

export function createPlatformUsage(): PlatformUsage {
  const sources = new Map<string, UsageSource>();
  const listeners: ((c: UsageCrossing) => Promise<void>)[] = [];
  return {
    register(source) {
      sources.set(source.platform, source);
    },
    source: (platform) => sources.get(platform),
    async crossed(crossing) {
      for (const l of listeners) await l(crossing);
    },
    onCrossing(listener) {
      listeners.push(listener);
    },
  };
}
