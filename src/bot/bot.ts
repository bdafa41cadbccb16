import { createActionRegistry } from './actions.ts';
import { createCommandRegistry, type CommandRegistry } from './commands.ts';
import type { BotServices, IdentityResolver } from './context.ts';
import { createDispatcher, type Dispatcher } from './dispatcher.ts';
import type { Feature } from './feature.ts';
import { createHelpCommand } from './help.ts';
import { registerJobs } from './jobs.ts';
import type { BotEvent } from '../platforms/types.ts';
import type { InboundDedupe } from '../lib/inbound-dedupe.ts';

export type { Feature } from './feature.ts';

export interface Bot {
  dispatcher: Dispatcher;
  commands: CommandRegistry;
  features: Feature[];
  /** Starts every feature's background work. */
  start(): void;
  /** Lets every feature finish in-flight work (in reverse order of the list). */
  stop(): Promise<void>;
  /** Brings every feature's derived data up to date (Feature.settle). */
  settle(): Promise<void>;
}

/**
 * Wires the features: their commands and actions into one registry each
 * (a name declared twice stops start-up), their jobs into the scheduler,
 * their periodic jobs, chat-left hooks and lifecycle.
 */
export function createBot(deps: {
  services: BotServices;
  identity: IdentityResolver;
  features: Feature[];
  isSelf?: (event: BotEvent) => boolean;
  dedupe?: InboundDedupe;
}): Bot {
  const { services, features } = deps;
  const names = new Set<string>();
  const owners = new Map<string, string>();
  for (const f of features) {
    if (names.has(f.name)) throw new Error(`feature "${f.name}" is listed twice`);
    names.add(f.name);
    for (const key of Object.keys(f.messages ?? {})) {
      const owner = owners.get(key);
      if (owner) throw new Error(`message "${key}" is claimed by features "${owner}" and "${f.name}"`);
      if (!services.messages.has(key))
        throw new Error(`message "${key}" of feature "${f.name}" is not in the catalogue`);
      owners.set(key, f.name);
    }
  }
  // Help lists every command, itself included, so it reads the registry lazily.
  const help = createHelpCommand(() => registry);
  const registry: CommandRegistry = createCommandRegistry(
    [help, ...features.flatMap((f) => f.commands ?? [])],
    services.messages,
  );
  const actions = createActionRegistry(features.flatMap((f) => f.actions ?? []));
  registerJobs({
    scheduler: services.scheduler,
    jobs: features.flatMap((f) => f.jobs ?? []),
    context: (item, tx) => ({
      send: services.send.in(tx),
      t: services.messages.t,
      log: services.log.child({ job: item.kind, item: item.id }),
    }),
  });
  for (const f of features) {
    for (const p of f.periodic ?? []) services.scheduler.every(`${f.name}.${p.name}`, p.cron, p.run);
  }
  const dispatcher = createDispatcher({
    services,
    commands: registry,
    actions,
    identity: deps.identity,
    isSelf: deps.isSelf,
    dedupe: deps.dedupe,
    chatLeftHooks: features.flatMap((f) => (f.onChatLeft ? [f.onChatLeft] : [])),
    otherTextHooks: features.flatMap((f) => (f.onOtherText ? [f.onOtherText] : [])),
  });
  return {
    dispatcher,
    commands: registry,
    features,
    start() {
      for (const f of features) f.start?.();
    },
    async stop() {
      for (const f of [...features].reverse()) await f.stop?.();
    },
    async settle() {
      for (const f of features) await f.settle?.();
    },
  };
}
