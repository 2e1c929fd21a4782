import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { registryConfigOption } from '../options.js';
import { registryHostOf } from './login.js';

interface LogoutFlags {
  registryConfig?: string[];
}

export function logoutCommand(getContext: (cmd: Command) => CliContext): Command {
  const cmd = new Command('logout')
    .description('remove the credentials of a registry from every store that holds them')
    .argument('<registry>', 'registry host[:port] (docker.io for Docker Hub)')
    .addOption(registryConfigOption('--registry-config', 'a docker config.json (repeatable; the first is the one written)'));
  cmd.addHelpText('after', '\nExample:\n  $ wasm-oci logout registry.example.com');
  cmd.action(async (input: string, flags: LogoutFlags, self: Command) => {
    const ctx = getContext(self);
    const registry = await registryHostOf(input);
    const [{ logout }, { createCredentialStore }] = await Promise.all([
      import('../../credentials/login.js'),
      import('../../credentials/store.js'),
    ]);
    const store = createCredentialStore({ configPaths: flags.registryConfig, env: ctx.io.env, onWarning: (m) => ctx.warn(m) });
    const removed = await logout({ registry, store });
    ctx.json({ registry, removedFrom: removed });
    if (removed.length === 0) {
      ctx.out(`Not logged in to ${registry}`);
      return;
    }
    ctx.out(`Removed login credentials for ${registry} from: ${removed.join(', ')}`);
  });
  return cmd;
}
