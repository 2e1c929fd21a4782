import { Option, type Command } from 'commander';
import { WasmOciError } from '../errors.js';
import type { CliContext } from './context.js';

/**
 * The commands where oras 1.3 still takes `-v/--verbose`, deprecated: option.AddDeprecatedVerboseFlag
 * (cmd/oras/internal/option/verbose.go) or a `verbose` flag marked with MarkDeprecated in the
 * command's file (attach.go, cp.go, discover.go, pull.go, push.go, blob/push.go, manifest/push.go).
 * A script written for oras keeps working: the flag is accepted, hidden from help, and warned about
 * as pflag warns (`Flag --verbose has been deprecated, ...`). It changes nothing: with oras it only
 * turned off (`--verbose=false`) what is on by default.
 */
const VERBOSE_COMMANDS = [
  'attach', 'copy', 'discover', 'login', 'pull', 'push', 'resolve', 'tag',
  'blob delete', 'blob fetch', 'blob push',
  'manifest delete', 'manifest fetch', 'manifest fetch-config', 'manifest push',
  'repo ls', 'repo tags',
];

const VERBOSE_WARNING = 'Flag --verbose has been deprecated, and will be removed in a future release.';

/** oras discover's `-o/--output tree|table|json` (discover.go, "[Deprecated]"), the former --format. */
const DISCOVER_OUTPUT_TYPES = ['tree', 'table', 'json'];

/** The command at `path`, when the program has it: a run registers only the command it names (program.ts). */
function find(program: Command, path: string): Command | undefined {
  let cmd: Command | undefined = program;
  for (const name of path.split(' ')) cmd = cmd?.commands.find((c) => c.name() === name);
  return cmd;
}

/** Adds the deprecated oras flags to the commands `program` already has. */
export function addOrasDeprecatedFlags(program: Command, getContext: (cmd: Command) => CliContext): void {
  const verbose = new Set(VERBOSE_COMMANDS.map((path) => find(program, path)).filter((c): c is Command => c !== undefined));
  for (const cmd of verbose) cmd.addOption(new Option('-v, --verbose', 'deprecated (oras): accepted, does nothing').hideHelp());
  const discover = find(program, 'discover');
  discover?.addOption(new Option('-o, --output <format>', 'deprecated (oras): --format tree|table|json').hideHelp());
  program.hook('preAction', (_root, action) => {
    if (action === discover && action.getOptionValue('output') !== undefined) {
      const value = String(action.getOptionValue('output'));
      // oras discover PreRunE: CheckMutuallyExclusiveFlags(format, output), then the type check.
      if (program.getOptionValueSource('format') === 'cli') throw new WasmOciError('E_USAGE', '--format, --output cannot be used at the same time');
      if (!DISCOVER_OUTPUT_TYPES.includes(value)) throw new WasmOciError('E_USAGE', 'output type can only be tree, table or json');
      // Before the context exists (it reads --format once, when the action first asks for it).
      program.setOptionValueWithSource('format', value, 'cli');
      getContext(action).warn(`--output is deprecated, try \`--format ${value}\` instead`);
    }
    if (verbose.has(action) && action.getOptionValue('verbose') === true) getContext(action).warn(VERBOSE_WARNING);
  });
}
