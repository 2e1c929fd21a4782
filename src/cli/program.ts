import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { pushCommand } from './commands/push.js';
import { pullCommand } from './commands/pull.js';
import { inspectCommand } from './commands/inspect.js';
import { loginCommand } from './commands/login.js';
import { logoutCommand } from './commands/logout.js';
import { renderCommand } from './commands/render.js';
import { tagCommand } from './commands/tag.js';
import { resolveCommand } from './commands/resolve.js';
import { copyCommand } from './commands/copy.js';
import { repoCommand } from './commands/repo.js';
import { manifestCommand } from './commands/manifest.js';
import { blobCommand } from './commands/blob.js';
import { attachCommand } from './commands/attach.js';
import { discoverCommand } from './commands/discover.js';
import { versionCommand } from './commands/version.js';
import { backupCommand, restoreCommand } from './commands/backup.js';
import { agentCommand } from './commands/agent.js';
import { runCommand } from './commands/run.js';
import { testCommand } from './commands/test-filter.js';
import { addOrasDeprecatedFlags } from './oras-deprecated-flags.js';

export type ContextFactory = (cmd: Command) => CliContext;

/** Every command is built by its own file; this is the one list of them. */
export function registerCommands(program: Command, getContext: ContextFactory): void {
  for (const make of [loginCommand, logoutCommand, pushCommand, pullCommand, inspectCommand, tagCommand, resolveCommand, copyCommand, repoCommand, manifestCommand, blobCommand, attachCommand, discoverCommand, backupCommand, restoreCommand, versionCommand, renderCommand, agentCommand, runCommand, testCommand]) {
    const cmd = make(getContext);
    inheritSettings(program, cmd);
    program.addCommand(cmd);
  }
  addOrasDeprecatedFlags(program, getContext);
}

/** Commands made with `new Command` do not inherit the program's settings; sub-subcommands neither. */
function inheritSettings(program: Command, cmd: Command): void {
  cmd.exitOverride().configureOutput(program.configureOutput()).showHelpAfterError('(run with --help for usage)');
  for (const sub of cmd.commands) inheritSettings(program, sub);
}
