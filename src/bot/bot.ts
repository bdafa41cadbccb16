import type { ActionSpec } from './actions.ts';
import { createActionRegistry } from './actions.ts';
import { createCommandRegistry, type CommandRegistry, type CommandSpec } from './commands.ts';
import type { BotServices, ChatLeftHook, IdentityResolver } from './context.ts';
import { createDispatcher, type Dispatcher } from './dispatcher.ts';
import { createHelpCommand } from './help.ts';
import type { BotEvent } from '../platforms/types.ts';
import type { InboundDedupe } from '../lib/inbound-dedupe.ts';

/** What a feature contributes: its commands and card actions, as plain lists, and its lifecycle hooks. */
export interface Feature {
  commands?: CommandSpec[];
  actions?: ActionSpec[];
  /** The bot left a group: pause what this feature runs there (see ChatLeftHook). */
  onChatLeft?: ChatLeftHook;
}

export interface Bot {
  dispatcher: Dispatcher;
  commands: CommandRegistry;
}

export function createBot(deps: {
  services: BotServices;
  identity: IdentityResolver;
  features: Feature[];
  isSelf?: (event: BotEvent) => boolean;
  dedupe?: InboundDedupe;
}): Bot {
  // Help lists every command, itself included, so it reads the registry lazily.
  const help = createHelpCommand(() => registry);
  const registry: CommandRegistry = createCommandRegistry([help, ...deps.features.flatMap((f) => f.commands ?? [])]);
  const actions = createActionRegistry(deps.features.flatMap((f) => f.actions ?? []));
  const dispatcher = createDispatcher({
    services: deps.services,
    commands: registry,
    actions,
    identity: deps.identity,
    isSelf: deps.isSelf,
    dedupe: deps.dedupe,
    chatLeftHooks: deps.features.flatMap((f) => (f.onChatLeft ? [f.onChatLeft] : [])),
  });
  return { dispatcher, commands: registry };
}
