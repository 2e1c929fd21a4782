import { InvalidArgumentError, Option, type Command } from 'commander';

/** Flags of every command that reads or writes a registry or a layout, spelled as oras spells them. */
export interface TargetFlags {
  ociLayout?: boolean;
  /** oras --oci-layout-path PATH: the layout's path, the argument being only the tag or digest. */
  ociLayoutPath?: string;
  username?: string;
  password?: string;
  passwordStdin?: boolean;
  identityToken?: string;
  identityTokenStdin?: boolean;
  /** Unset: plain HTTP for `localhost` only, as oras decides (isPlainHttp in remote.go). */
  plainHttp?: boolean;
  header?: string[];
  certFile?: string;
  keyFile?: string;
  resolve?: string[];
  insecure?: boolean;
  caFile?: string;
  registryConfig?: string[];
}

export function addTargetOptions(cmd: Command, opts: { layout?: boolean } = {}): Command {
  if (opts.layout !== false) {
    cmd.option('--oci-layout', 'the reference is a local OCI image layout: path[:tag|@digest]');
    cmd.option('--oci-layout-path <path>', 'the target is the OCI image layout at PATH; the reference is then only the tag or digest');
  }
  return addRemoteOptions(cmd);
}

export function addRemoteOptions(cmd: Command): Command {
  cmd
    .option('-u, --username <username>', 'registry username')
    .option('-p, --password <password>', 'registry password or token (insecure: prefer --password-stdin)')
    .option('--password-stdin', 'read the password or token from stdin')
    .option('--identity-token <token>', 'an identity (refresh) token')
    .option('--identity-token-stdin', 'read an identity (refresh) token from stdin');
  return addRemoteTransportOptions(cmd);
}

/**
 * The remote flags without the account ones: how to reach registries (scheme, TLS, client
 * certificate, headers, --resolve) and which docker config files hold credentials. For commands
 * that talk to many registries with credentials from elsewhere (the agent's pull secrets).
 */
export function addRemoteTransportOptions(cmd: Command): Command {
  return cmd
    .option('--plain-http', 'use plain HTTP instead of HTTPS (the default for localhost)')
    .addOption(new Option('--no-plain-http', 'use HTTPS even for localhost (oras: --plain-http=false)').hideHelp())
    .option('--insecure', 'skip TLS certificate verification')
    .option('--ca-file <file>', 'trust the CA certificates in this PEM file')
    .option('--cert-file <file>', 'client certificate (PEM) for mutual TLS')
    .option('--key-file <file>', 'private key (PEM) of the client certificate')
    .option('-H, --header <header>', "add a header to every request, 'Name: value' (repeatable)", collect)
    .option('--resolve <host:port:address[:address_port]>', 'connect to this address for host:port, keeping the name for TLS and Host (repeatable)', collect)
    .addOption(registryConfigOption('--registry-config', 'a docker config.json to read credentials from (repeatable; the first is the one written)'));
}

/**
 * One path per use, repeatable, as oras declares it (StringArrayVar in
 * cmd/oras/internal/option/remote.go, ApplyFlagsWithPrefix). A variadic `<path...>` would swallow
 * the positional reference that follows it.
 */
export function registryConfigOption(flag: string, description: string): Option {
  return new Option(`${flag} <path>`, description).argParser(collect);
}

export type Side = 'from' | 'to';

/**
 * `copy`'s per-side flags, spelled as oras copy spells them (ApplyFlagsWithPrefix with "from"
 * and "to" in cmd/oras/internal/option/remote.go): each side can have its own transport and account.
 */
export function addSideRemoteOptions(cmd: Command, side: Side, description: string): Command {
  return cmd
    .option(`--${side}-username <username>`, `${description} registry username`)
    .option(`--${side}-password <password>`, `${description} registry password or token`)
    .option(`--${side}-identity-token <token>`, `${description} registry identity token`)
    .option(`--${side}-plain-http`, `use plain HTTP for the ${description} registry`)
    .option(`--${side}-insecure`, `skip TLS certificate verification for the ${description} registry`)
    .option(`--${side}-ca-file <file>`, `trust the CA certificates in this PEM file for the ${description} registry`)
    .option(`--${side}-cert-file <file>`, `client certificate (PEM) for the ${description} registry`)
    .option(`--${side}-key-file <file>`, `private key (PEM) of the ${description} client certificate`)
    .option(`--${side}-header <header>`, `add a header to every request to the ${description} registry (repeatable)`, collect)
    .option(`--${side}-resolve <host:port:address[:address_port]>`, `--resolve for the ${description} registry (repeatable)`, collect)
    .addOption(registryConfigOption(`--${side}-registry-config`, `a docker config.json for the ${description} registry (repeatable)`));
}

type SideFlags = Record<string, unknown>;

function sideValue<T>(flags: SideFlags, side: Side, name: string): T | undefined {
  return flags[`${side}${name}`] as T | undefined;
}

/** True when any `--from-*`/`--to-*` credential flag was given for this side. */
export function hasSideCredential(flags: SideFlags, side: Side): boolean {
  return ['Username', 'Password', 'IdentityToken'].some((n) => sideValue(flags, side, n) !== undefined);
}

/**
 * The flags one side of a copy uses: the side's own flags over the shared ones. A credential given
 * for the side replaces the shared credential as a whole, so a typed password never mixes with
 * another account's username.
 */
export function sideTargetFlags(flags: TargetFlags & SideFlags, side: Side): TargetFlags {
  const out: TargetFlags = { ...flags };
  if (hasSideCredential(flags, side)) {
    out.username = sideValue(flags, side, 'Username');
    out.password = sideValue(flags, side, 'Password');
    out.identityToken = sideValue(flags, side, 'IdentityToken');
    out.passwordStdin = false;
    out.identityTokenStdin = false;
  }
  if (sideValue<boolean>(flags, side, 'PlainHttp')) out.plainHttp = true;
  if (sideValue<boolean>(flags, side, 'Insecure')) out.insecure = true;
  const ca = sideValue<string>(flags, side, 'CaFile');
  if (ca !== undefined) out.caFile = ca;
  for (const name of ['CertFile', 'KeyFile'] as const) {
    const v = sideValue<string>(flags, side, name);
    if (v !== undefined) out[name === 'CertFile' ? 'certFile' : 'keyFile'] = v;
  }
  // A side's -H adds to the shared ones; its --resolve rules come after the shared ones, and the
  // later rule wins, as oras's BinaryTarget.Parse orders --resolve before --from/--to-resolve.
  const header = sideValue<string[]>(flags, side, 'Header');
  if (header !== undefined) out.header = [...(flags.header ?? []), ...header];
  const resolve = sideValue<string[]>(flags, side, 'Resolve');
  if (resolve !== undefined) out.resolve = [...(flags.resolve ?? []), ...resolve];
  const cfg = sideValue<string[]>(flags, side, 'RegistryConfig');
  if (cfg !== undefined) out.registryConfig = cfg;
  return out;
}

export function addConcurrencyOption(cmd: Command, defaultValue = 3, description = 'blobs transferred in parallel'): Command {
  return cmd.option('--concurrency <n>', description, (v) => positiveInt(v, '--concurrency'), defaultValue);
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

/**
 * oras's `--platform` (cmd/oras/internal/option/platform.go ApplyFlags; Parse runs in the
 * action through parsePlatform): the manifest of that platform when the reference is an index,
 * and a manifest must be of it (oras-go internal/platform SelectManifest).
 */
export function addPlatformOption(cmd: Command, what: string): Command {
  return cmd.option('--platform <os[/arch[/variant]][:os_version]>', `${what} (from an index: the manifest of that platform; a manifest must be of it, its image config says)`);
}
