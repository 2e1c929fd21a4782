/**
 * sprig's `env` and `expandenv` (os.Getenv, os.ExpandEnv): in oras's FuncMap too, so a template
 * can read the environment. The environment is passed in (the CLI gives its own), never read
 * from the process here.
 */
import type { GoFunc } from './exec.js';
import { f, s0 } from './sprig-convert.js';

export type Environment = Readonly<Record<string, string | undefined>>;

const isSpecial = (c: string | undefined) => c !== undefined && '*#$@!?-0123456789'.includes(c);
const isAlphaNum = (c: string | undefined) => c !== undefined && /[A-Za-z0-9_]/.test(c);

/** os.go getShellName: the name after a `$` and how many characters it takes. */
function shellName(s: string): [string, number] {
  if (s[0] === '{') {
    if (s.length > 2 && isSpecial(s[1]) && s[2] === '}') return [s[1]!, 3];
    for (let i = 1; i < s.length; i++) {
      if (s[i] === '}') return i === 1 ? ['', 2] : [s.slice(1, i), i + 1];
    }
    return ['', 1];
  }
  if (isSpecial(s[0])) return [s[0]!, 1];
  let i = 0;
  while (i < s.length && isAlphaNum(s[i])) i++;
  return [s.slice(0, i), i];
}

/** os.Expand: $NAME and ${NAME}; bad syntax is eaten, a lone `$` stays. */
export function expandEnv(s: string, env: Environment): string {
  let out = '';
  let i = 0;
  for (let j = 0; j < s.length; j++) {
    if (s[j] === '$' && j + 1 < s.length) {
      out += s.slice(i, j);
      const [name, w] = shellName(s.slice(j + 1));
      if (name === '' && w > 0) {
        // invalid syntax: eaten
      } else if (name === '') out += '$';
      else out += env[name] ?? '';
      j += w;
      i = j + 1;
    }
  }
  return i === 0 ? s : out + s.slice(i);
}

export function envFunctions(env: Environment): Record<string, GoFunc> {
  return {
    env: f(['string'], (a) => env[s0(a, 0)] ?? ''),
    expandenv: f(['string'], (a) => expandEnv(s0(a, 0), env)),
  };
}
