import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { pushCommand } from './commands/push.js';
import { pullCommand } from './commands/pull.js';

export type ContextFactory = (cmd: Command) => CliContext;

/** Every command is built by its own file; this is the one list of them. */
export function registerCommands(program: Command, getContext: ContextFactory): void {
  for (const make of [pushCommand, pullCommand]) {
    const cmd = make(getContext);
    cmd.exitOverride().configureOutput(program.configureOutput()).showHelpAfterError('(run with --help for usage)');
    program.addCommand(cmd);
  }
}
