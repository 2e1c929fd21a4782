import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { CliContext, loadGoTemplateEngine, type CliIO, type GlobalFlags } from './context.js';
import { errorDocument, exitCodeTable, renderError } from './render-error.js';
import { registerCommands } from './program.js';
import { unknownSubcommand } from './unknown-command.js';
import { ERROR_CODES, WasmOciError } from '../errors.js';

const USAGE_EXIT = ERROR_CODES.E_USAGE.exitCode;

export function defaultIO(): CliIO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    // process.stdin builds its stream on first read (a tty or pipe handle, ~5 ms of a small pull):
    // only the commands that read it (login, --password-stdin, `-` as a file) pay for it.
    get stdin() {
      return process.stdin;
    },
    env: process.env,
    cwd: process.cwd(),
  };
}

/** `wasm-oci repo tags`: the names from the program down to `cmd`. */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Every command of the tree, the program first, depth first. */
export function allCommands(root: Command): Command[] {
  return [root, ...root.commands.flatMap((c) => allCommands(c))];
}

/**
 * After commander's own message (`error: unknown option '--foo'`), the usage line of the command
 * that failed and where to read more, as git and docker do; the full help would bury the message.
 */
function printUsageAfterErrors(root: Command): void {
  for (const cmd of allCommands(root)) {
    // Commands built with `new Command` do not inherit exitOverride: without it commander exits 1 itself.
    cmd.exitOverride();
    cmd.showHelpAfterError(false);
    cmd.configureOutput({
      outputError: (message, write) => {
        write(message);
        write(`Usage: ${commandPath(cmd)} ${cmd.usage()}\n`);
        write(`Run '${commandPath(cmd)} --help' for examples and every option.\n`);
      },
    });
  }
}

/** Whether the command line asks for JSON, read before (or without) a successful parse. */
export function wantsJson(args: string[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return false;
    if (a === '--format=json') return true;
    if (a === '--format' && args[i + 1] === 'json') return true;
  }
  return false;
}

const FORMATS = ['text', 'json', 'tree', 'table', 'go-template'];

/** commander's choices, plus `go-template=TEMPLATE` (oras's format type with a parameter). */
function parseFormatFlag(value: string): string {
  if (FORMATS.includes(value) || value.startsWith('go-template=')) return value;
  throw new InvalidArgumentError(`Allowed choices are ${FORMATS.join(', ')}, go-template=TEMPLATE.`);
}

/** The program with every command, or with only the one `args` names (see registerCommands). */
export async function buildProgram(io: CliIO, getContext: (cmd: Command) => CliContext, version: string, args?: readonly string[]): Promise<Command> {
  const program = new Command('wasm-oci');
  program
    .description('Push, pull, inspect and render WebAssembly filters in OCI registries and OCI image layouts')
    .version(version, '-V, --version')
    .addOption(new Option('--format <format>', 'output format: text, json (discover: tree, table); go-template=TEMPLATE on push, attach, pull, discover, manifest fetch, repo ls, repo tags').argParser(parseFormatFlag).default('text'))
    .option('--template <template>', 'Go template for --format go-template (as oras: text/template with sprig functions)')
    .option('--no-tty', 'no progress, spinners or prompts, even on a terminal')
    .option('-d, --debug', 'trace HTTP requests on stderr (secrets redacted)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  program.addHelpText(
    'after',
    `
Global options go before or after the command: --format json, --no-tty, -d/--debug.

Examples:
  $ wasm-oci push --oci-layout ./wasm-store:v0.1 examples/example-filter.wasm
  $ echo "$PASSWORD" | wasm-oci login -u alice --password-stdin registry.example.com
  $ wasm-oci push registry.example.com/filters/example:v0.1 example-filter.wasm
  $ wasm-oci inspect registry.example.com/filters/example:v0.1
  $ wasm-oci help exit-codes`,
  );
  const exitCodes = new Command('exit-codes')
    .description('print the table of exit codes')
    .action((_opts, cmd: Command) => {
      const c = getContext(cmd);
      const rows = exitCodeTable();
      c.json(rows);
      for (const r of rows) c.out(`${String(r.exitCode).padStart(3)}  ${r.meaning}${r.codes.length ? ` (${r.codes.join(', ')})` : ''}`);
    });
  exitCodes.addHelpText('after', '\nExamples:\n  $ wasm-oci help exit-codes\n  $ wasm-oci exit-codes --format json');
  program.addCommand(exitCodes);
  await registerCommands(program, getContext, args);
  printUsageAfterErrors(program);
  return program;
}

/** Runs the CLI with `args` (without node and script) and resolves to the exit code; never calls process.exit. */
export async function main(args: string[], io: CliIO = defaultIO(), version?: string): Promise<number> {
  let ctx: CliContext | undefined;
  // Ctrl-C aborts the command's operations, which remove their temp and partial files on the way out.
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const getContext = (cmd: Command): CliContext => {
    ctx ??= new CliContext(io, { ...(cmd.optsWithGlobals() as GlobalFlags), command: commandPath(cmd).split(' ').slice(1).join(' ') }, abort.signal);
    return ctx;
  };
  const program = await buildProgram(io, getContext, version ?? (await readVersion()), args);
  // The template engine only for a command line that may use it (CliContext needs it synchronously).
  if (args.some((a) => a.includes('go-template') || a === '--template' || a.startsWith('--template='))) await loadGoTemplateEngine();
  // `wasm-oci help exit-codes` reads naturally but commander's help command would only show usage.
  if (args[0] === 'help' && args[1] === 'exit-codes') args = ['exit-codes', ...args.slice(2)];
  // `repo ls --help` must not print repo's help and exit 0 as if `repo ls` existed.
  const unknown = args.some((a) => a === '--help' || a === '-h') ? unknownSubcommand(program, args) : undefined;
  if (unknown) {
    const where = commandPath(unknown.parent);
    io.stderr.write(`error: unknown command '${unknown.word}' for '${where}'\n`);
    io.stderr.write(`Run '${where} --help' for its commands.\n`);
    if (wantsJson(args)) io.stdout.write(`${JSON.stringify(errorDocument(new WasmOciError('E_USAGE', `unknown command '${unknown.word}' for '${where}'`)), null, 2)}\n`);
    return USAGE_EXIT;
  }
  try {
    await program.parseAsync(args, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      if (err.exitCode === 0) return 0;
      // Commander already printed its message and the usage line on stderr; scripts still get one document.
      if (wantsJson(args)) {
        const usage = new WasmOciError('E_USAGE', err.message.replace(/^error: /, ''));
        io.stdout.write(`${JSON.stringify(errorDocument(usage), null, 2)}\n`);
      }
      return USAGE_EXIT;
    }
    const e = abort.signal.aborted ? new WasmOciError('E_CANCELLED', 'cancelled', { cause: err }) : err;
    const c = ctx ?? new CliContext(io, { format: wantsJson(args) ? 'json' : 'text', tty: false });
    return renderError(c, e);
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

async function readVersion(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
