import { InvalidArgumentError, Option, type Command } from 'commander';

/** Flags of every command that reads or writes a registry or a layout, spelled as oras spells them. */
export interface TargetFlags {
  ociLayout?: boolean;
  username?: string;
  password?: string;
  passwordStdin?: boolean;
  identityToken?: string;
  plainHttp?: boolean;
  insecure?: boolean;
  caFile?: string;
  registryConfig?: string[];
}

export function addTargetOptions(cmd: Command, opts: { layout?: boolean } = {}): Command {
  if (opts.layout !== false) cmd.option('--oci-layout', 'the reference is a local OCI image layout: path[:tag|@digest]');
  return addRemoteOptions(cmd);
}

export function addRemoteOptions(cmd: Command): Command {
  return cmd
    .option('-u, --username <username>', 'registry username')
    .option('-p, --password <password>', 'registry password or token (insecure: prefer --password-stdin)')
    .option('--password-stdin', 'read the password or token from stdin')
    .option('--identity-token <token>', 'an identity (refresh) token')
    .option('--plain-http', 'use plain HTTP instead of HTTPS')
    .option('--insecure', 'skip TLS certificate verification')
    .option('--ca-file <file>', 'trust the CA certificates in this PEM file')
    .addOption(new Option('--registry-config <path...>', 'docker config.json files to read credentials from (the first is the one written)'));
}

export function addConcurrencyOption(cmd: Command): Command {
  return cmd.option('--concurrency <n>', 'blobs transferred in parallel', (v) => positiveInt(v, '--concurrency'), 3);
}

export function positiveInt(value: string, flag: string): number {
  const n = Number(value);
  // Commander reports an InvalidArgumentError as a usage error naming the option, with the usage line.
  if (value.trim() === '' || !Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} needs a positive integer.`);
  return n;
}

/** Collects repeated `-a key=value` flags. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
