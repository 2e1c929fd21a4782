import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { addOrasDeprecatedFlags } from './oras-deprecated-flags.js';

export type ContextFactory = (cmd: Command) => CliContext;
type CommandFactory = (getContext: ContextFactory) => Command;

/**
 * Every top-level command with the names it answers to (its aliases too), and where its code is.
 * Each loads on demand: `wasm-oci pull` runs the top-level code of the pull command and what it
 * imports, and builds that command's options, not those of the proxy-wasm host, the agent or the
 * renderer (in the bundle these imports are lazy initialisers; issue 14: 282 → 204 ms of a small
 * pull together with the cached bundle). The order is the order of `--help`.
 * test/unit/cli-program.test.ts checks these names against each command's own name and aliases.
 */
export const COMMANDS: ReadonlyArray<{ readonly names: readonly string[]; readonly load: () => Promise<CommandFactory> }> = [
  { names: ['login'], load: async () => (await import('./commands/login.js')).loginCommand },
  { names: ['logout'], load: async () => (await import('./commands/logout.js')).logoutCommand },
  { names: ['push'], load: async () => (await import('./commands/push.js')).pushCommand },
  { names: ['pull'], load: async () => (await import('./commands/pull.js')).pullCommand },
  { names: ['inspect'], load: async () => (await import('./commands/inspect.js')).inspectCommand },
  { names: ['tag'], load: async () => (await import('./commands/tag.js')).tagCommand },
  { names: ['resolve', 'digest'], load: async () => (await import('./commands/resolve.js')).resolveCommand },
  { names: ['copy', 'cp'], load: async () => (await import('./commands/copy.js')).copyCommand },
  { names: ['repo', 'repository'], load: async () => (await import('./commands/repo.js')).repoCommand },
  { names: ['manifest'], load: async () => (await import('./commands/manifest.js')).manifestCommand },
  { names: ['blob'], load: async () => (await import('./commands/blob.js')).blobCommand },
  { names: ['attach'], load: async () => (await import('./commands/attach.js')).attachCommand },
  { names: ['discover'], load: async () => (await import('./commands/discover.js')).discoverCommand },
  { names: ['backup'], load: async () => (await import('./commands/backup.js')).backupCommand },
  { names: ['restore'], load: async () => (await import('./commands/backup.js')).restoreCommand },
  { names: ['version'], load: async () => (await import('./commands/version.js')).versionCommand },
  { names: ['render'], load: async () => (await import('./commands/render.js')).renderCommand },
  { names: ['agent'], load: async () => (await import('./commands/agent.js')).agentCommand },
  { names: ['run'], load: async () => (await import('./commands/run.js')).runCommand },
  { names: ['test'], load: async () => (await import('./commands/test-filter.js')).testCommand },
];

/** The program's own options that take a value: the word after them is not the command. */
const GLOBAL_OPTIONS_WITH_VALUE = new Set(['--format', '--template']);

/** The word of `args` that names the command (`pull` in `--format json pull REF`), if any. */
export function commandWord(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return undefined;
    if (a.startsWith('-')) {
      if (GLOBAL_OPTIONS_WITH_VALUE.has(a)) i++;
      continue;
    }
    return a;
  }
  return undefined;
}

/**
 * Adds the commands to `program`: only the one `args` names when it names one, else all of them
 * (`--help`, `help`, a mistyped command and its suggestion need the whole list). Without `args`, all.
 */
export async function registerCommands(program: Command, getContext: ContextFactory, args?: readonly string[]): Promise<void> {
  const word = args ? commandWord(args) : undefined;
  const named = word === undefined ? [] : COMMANDS.filter((c) => c.names.includes(word));
  const chosen = named.length > 0 ? named : COMMANDS;
  const factories = await Promise.all(chosen.map((c) => c.load()));
  for (const make of factories) {
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
