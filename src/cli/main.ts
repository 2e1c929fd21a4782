import { Command, CommanderError } from 'commander';
import { CliContext, type CliIO, type GlobalFlags } from './context.js';
import { exitCodeTable, renderError } from './render-error.js';
import { registerCommands } from './program.js';
import { ERROR_CODES } from '../errors.js';

const USAGE_EXIT = ERROR_CODES.E_USAGE.exitCode;

export function defaultIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, cwd: process.cwd() };
}

/** Runs the CLI with `args` (without node and script) and resolves to the exit code; never calls process.exit. */
export async function main(args: string[], io: CliIO = defaultIO()): Promise<number> {
  let ctx: CliContext | undefined;
  const program = new Command('wasm-oci');
  const getContext = (cmd: Command): CliContext => {
    ctx ??= new CliContext(io, cmd.optsWithGlobals() as GlobalFlags);
    return ctx;
  };
  program
    .description('Push, pull, inspect and render WebAssembly filters in OCI registries and OCI image layouts')
    .version(await readVersion(), '-V, --version')
    .option('--format <format>', 'output format: text or json', 'text')
    .option('--no-tty', 'no progress, spinners or prompts, even on a terminal')
    .option('-d, --debug', 'trace HTTP requests on stderr (secrets redacted)')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    });
  program
    .command('exit-codes')
    .description('print the table of exit codes')
    .action((_opts, cmd: Command) => {
      const c = getContext(cmd);
      const rows = exitCodeTable();
      c.json(rows);
      for (const r of rows) c.out(`${String(r.exitCode).padStart(3)}  ${r.meaning}${r.codes.length ? ` (${r.codes.join(', ')})` : ''}`);
    });
  registerCommands(program, getContext);
  // `wasm-oci help exit-codes` reads naturally but commander's help command would only show usage.
  if (args[0] === 'help' && args[1] === 'exit-codes') args = ['exit-codes', ...args.slice(2)];
  try {
    await program.parseAsync(args, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      return err.exitCode === 0 ? 0 : USAGE_EXIT;
    }
    if ((err as { usage?: boolean }).usage) {
      io.stderr.write(`error: ${(err as Error).message}\n`);
      return USAGE_EXIT;
    }
    const c = ctx ?? new CliContext(io, { format: 'text' });
    return renderError(c, err);
  }
}

async function readVersion(): Promise<string> {
  const { readFile } = await import('node:fs/promises');
  const pkg = JSON.parse(await readFile(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
