import type { Command } from 'commander';

function findOption(cmds: Command[], flag: string) {
  for (const c of cmds) {
    const hit = c.options.find((o) => o.short === flag || o.long === flag);
    if (hit) return hit;
  }
  return undefined;
}

/**
 * The first word of `args` that stands where a subcommand belongs but names none: `repo ls`
 * when `repo` has only `tags`. Commander answers `repo ls --help` with repo's own help and
 * exit 0 (it looks for --help before it looks at the unknown word), which tells a script that
 * `repo ls` exists. Returns the command that has no such subcommand, and the word.
 */
export function unknownSubcommand(program: Command, args: readonly string[]): { parent: Command; word: string } | undefined {
  let cur = program;
  const chain: Command[] = [program];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return undefined;
    if (a.startsWith('-') && a !== '-') {
      if (a.includes('=')) continue;
      const opt = findOption(chain, a);
      // An option that takes a value consumes the next word (`--format json`).
      if (opt && (opt.required || opt.optional) && !opt.variadic) i++;
      continue;
    }
    if (cur.commands.length === 0) return undefined; // a leaf: the rest are its operands
    const sub = cur.commands.find((c) => c.name() === a || c.aliases().includes(a));
    if (sub) {
      cur = sub;
      chain.unshift(sub);
      continue;
    }
    // Commander's implicit `help [command]`.
    if (a === 'help') return undefined;
    return { parent: cur, word: a };
  }
  return undefined;
}
