import { Command, Option } from 'commander';
import { createInterface } from 'node:readline';
import { WasmOciError } from '../../errors.js';
import { usernameProblem, type Credential } from '../../credentials/types.js';
import type { CliContext } from '../context.js';
import { addRemoteOptions, type TargetFlags } from '../options.js';
import { readStdinSecret, transportOptions } from '../target.js';

interface LoginFlags extends TargetFlags {
  identityTokenStdin?: boolean;
  store?: 'keychain' | 'file' | 'helper';
}

/**
 * `docker login https://index.docker.io/v1/` and `docker login localhost:5000` both work: the
 * argument is a registry address, not a reference, so scheme and path are dropped as docker does.
 */
export async function registryHostOf(input: string): Promise<string> {
  const { canonicalHost } = await import('../../credentials/host.js');
  const host = canonicalHost(input);
  if (!host || /[\s@]/.test(host)) throw new WasmOciError('E_USAGE', `"${input}" is not a registry host`);
  return host;
}

/** A visible line read from the terminal (the username). */
async function promptLine(ctx: CliContext, question: string): Promise<string> {
  const rl = createInterface({ input: ctx.io.stdin, output: ctx.io.stderr, terminal: true });
  try {
    return await new Promise<string>((resolve, reject) => {
      rl.once('close', () => reject(new WasmOciError('E_CANCELLED', 'login cancelled')));
      rl.question(question, (answer) => resolve(answer.trim()));
    });
  } finally {
    rl.removeAllListeners('close');
    rl.close();
  }
}

/** Reads a password from the terminal in raw mode, echoing nothing. */
export async function promptHidden(
  io: { stdin: CliContext['io']['stdin']; stderr: CliContext['io']['stderr'] },
  question: string,
): Promise<string> {
  const { stdin, stderr } = io;
  stderr.write(question);
  stdin.setRawMode?.(true);
  stdin.resume();
  let value = '';
  try {
    return await new Promise<string>((resolve, reject) => {
      const onData = (chunk: Buffer | string) => {
        for (const ch of Buffer.from(chunk as Buffer).toString('utf8')) {
          if (ch === '\r' || ch === '\n') {
            cleanup();
            return resolve(value);
          }
          if (ch === '\u0003') {
            cleanup();
            return reject(new WasmOciError('E_CANCELLED', 'login cancelled'));
          }
          if (ch === '\u0004') {
            cleanup();
            return value ? resolve(value) : reject(new WasmOciError('E_CANCELLED', 'login cancelled'));
          }
          if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
          else if (ch >= ' ') value += ch;
        }
      };
      const onEnd = () => {
        cleanup();
        reject(new WasmOciError('E_CANCELLED', 'login cancelled'));
      };
      const cleanup = () => {
        stdin.removeListener('data', onData);
        stdin.removeListener('end', onEnd);
      };
      stdin.on('data', onData);
      stdin.once('end', onEnd);
    });
  } finally {
    stdin.setRawMode?.(false);
    stdin.pause();
    stderr.write('\n');
  }
}

function rejectUsername(username: string | undefined): void {
  const problem = usernameProblem(username);
  if (problem) throw new WasmOciError('E_USAGE', problem);
}

/** The credential from the flags, stdin, or a prompt on a terminal. */
async function gatherCredential(ctx: CliContext, flags: LoginFlags): Promise<Credential> {
  const fromStdin = [flags.passwordStdin && '--password-stdin', flags.identityTokenStdin && '--identity-token-stdin'].filter(Boolean);
  if (fromStdin.length > 1) throw new WasmOciError('E_USAGE', '--password-stdin and --identity-token-stdin cannot be used together');
  if (flags.password !== undefined && flags.passwordStdin) throw new WasmOciError('E_USAGE', '--password and --password-stdin cannot be used together');
  const tokenGiven = flags.identityToken !== undefined || flags.identityTokenStdin;
  if (tokenGiven && (flags.password !== undefined || flags.passwordStdin)) {
    throw new WasmOciError('E_USAGE', 'an identity token and a password cannot be used together');
  }
  if (flags.identityToken !== undefined && flags.identityTokenStdin) {
    throw new WasmOciError('E_USAGE', '--identity-token and --identity-token-stdin cannot be used together');
  }

  rejectUsername(flags.username);
  if (tokenGiven) {
    if (flags.identityToken !== undefined) ctx.warn('Using --identity-token on the command line is insecure. Use --identity-token-stdin.');
    const token = flags.identityToken ?? (await readStdinSecret(ctx, '--identity-token-stdin'));
    return { identityToken: token, ...(flags.username ? { username: flags.username } : {}) };
  }

  if (flags.password !== undefined) ctx.warn('Using --password via the CLI is insecure. Use --password-stdin.');
  if (flags.passwordStdin && !flags.username) {
    throw new WasmOciError('E_USAGE', '--password-stdin needs --username', { hint: 'echo "$PASSWORD" | wasm-oci login -u USER --password-stdin REGISTRY' });
  }
  let username = flags.username;
  let password = flags.password ?? (flags.passwordStdin ? await readStdinSecret(ctx, '--password-stdin') : undefined);
  if (username === undefined || password === undefined) {
    const canPrompt = ctx.interactive && ctx.io.stdin.isTTY === true && typeof ctx.io.stdin.setRawMode === 'function';
    if (!canPrompt) {
      throw new WasmOciError('E_USAGE', 'no credentials given and no terminal to ask for them', {
        hint: 'pass -u USER --password-stdin (or --identity-token-stdin)',
      });
    }
    username ??= await promptLine(ctx, 'Username: ');
    password ??= await promptHidden(ctx.io, 'Password: ');
  }
  if (!username) throw new WasmOciError('E_USAGE', 'the username is empty');
  rejectUsername(username);
  if (!password) throw new WasmOciError('E_USAGE', 'the password is empty');
  return { username, password };
}

export function loginCommand(getContext: (cmd: Command) => CliContext): Command {
  const cmd = new Command('login')
    .description('log in to a registry: check the credentials, then store them (credential helper, OS keychain or config.json)')
    .argument('<registry>', 'registry host[:port] (docker.io for Docker Hub)')
    .addOption(
      new Option('--store <store>', 'where to keep the credentials (default: a configured credential helper, else the OS keychain, else config.json)').choices([
        'keychain',
        'file',
        'helper',
      ]),
    );
  addRemoteOptions(cmd);
  cmd.addHelpText(
    'after',
    `
Examples:
  $ echo "$PASSWORD" | wasm-oci login -u alice --password-stdin registry.example.com
  $ wasm-oci login localhost:5000 --plain-http -u alice        # asks for the password
  $ wasm-oci login registry.example.com --store file --registry-config ./config.json -u alice --password-stdin`,
  );
  cmd.action(async (input: string, flags: LoginFlags, self: Command) => {
    const ctx = getContext(self);
    const registry = await registryHostOf(input);
    const credential = await gatherCredential(ctx, flags);
    const transport = await transportOptions(flags, registry, ctx.io.env);
    const [{ login }, { createCredentialStore }] = await Promise.all([
      import('../../credentials/login.js'),
      import('../../credentials/store.js'),
    ]);
    const store = createCredentialStore({ configPaths: flags.registryConfig, env: ctx.io.env, onWarning: (m) => ctx.warn(m) });
    const result = await login({
      registry,
      credential,
      store,
      storeKind: flags.store,
      onWarning: (m) => ctx.warn(m),
      verify: async (cred) => {
        const { createRegistry } = await import('../../registry/index.js');
        const client = createRegistry({
          registry,
          ...transport,
          onDebug: ctx.debug ? (line: string) => ctx.trace(line) : undefined,
          onWarning: (m: string) => ctx.warn(m),
        });
        try {
          await client.checkCredentials(cred);
        } finally {
          await client.close?.();
        }
      },
    });
    ctx.trace(`credentials for ${registry} stored in ${result.location}`);
    ctx.json({ registry, store: result.store, location: result.location });
    ctx.out('Login Succeeded');
  });
  return cmd;
}
