/**
 * The parse tree of a Go template (Go src/text/template/parse/parse.go and node.go), built from
 * lex.ts's tokens with the same grammar: actions, pipelines with `$x :=` / `$x =` declarations,
 * commands, operands with field chains, if / else if / else, range (with break and continue),
 * with, define, template and block. Checked here as Go checks while parsing: an unknown function,
 * an undefined variable, `{{break}}` outside a range, a misplaced `{{end}}` or `{{else}}`.
 */
import { lex, TemplateSyntaxError, type Token, type TokenKind } from './lex.js';
import { trimSpace } from './unicode-case.js';

interface At {
  /** Offset of the node in the template and its source text, for Go's "at <...>" in errors. */
  pos: number;
  src: string;
}

export type Operand =
  | (At & { kind: 'field'; idents: string[] })
  | (At & { kind: 'variable'; idents: string[] })
  | (At & { kind: 'dot' })
  | (At & { kind: 'nil' })
  | (At & { kind: 'bool'; value: boolean })
  | (At & { kind: 'number'; num: NumberConstant })
  | (At & { kind: 'string'; value: string })
  | (At & { kind: 'identifier'; name: string })
  | (At & { kind: 'pipe'; pipe: Pipe })
  | (At & { kind: 'chain'; node: Operand; fields: string[] });

/** node.go NumberNode: a literal may be usable as an int, a float, or both (`1.0`). */
export interface NumberConstant {
  text: string;
  isInt: boolean;
  isUint: boolean;
  isFloat: boolean;
  int: bigint;
  float: number;
}

export interface Command extends At {
  args: Operand[];
}

export interface Pipe extends At {
  decl: string[];
  isAssign: boolean;
  cmds: Command[];
}

export type Node =
  | (At & { kind: 'text'; text: string })
  | (At & { kind: 'action'; pipe: Pipe })
  | (At & { kind: 'if' | 'with'; pipe: Pipe; list: Node[]; elseList?: Node[] })
  | (At & { kind: 'range'; pipe: Pipe; list: Node[]; elseList?: Node[] })
  | (At & { kind: 'template'; name: string; pipe?: Pipe })
  | (At & { kind: 'break' | 'continue' });

type EndNode = { kind: 'end' | 'else'; pos: number; src: string };

export interface ParsedTemplate {
  root: Node[];
  /** Templates from {{define}} and {{block}}, by name. */
  defines: Map<string, Node[]>;
}

export function parseTemplate(name: string, input: string, hasFunction: (name: string) => boolean): ParsedTemplate {
  return new Parser(name, input, hasFunction).parse();
}

class Parser {
  private tokens: Token[];
  private i = 0;
  private vars: string[] = ['$'];
  private rangeDepth = 0;
  private defines = new Map<string, Node[]>();

  constructor(
    private name: string,
    private input: string,
    private hasFunction: (name: string) => boolean,
  ) {
    this.tokens = lex(input);
  }

  private next(): Token {
    return this.tokens[this.i++] ?? this.tokens[this.tokens.length - 1]!;
  }
  private peek(): Token {
    return this.tokens[this.i] ?? this.tokens[this.tokens.length - 1]!;
  }
  private backup(n = 1): void {
    this.i -= n;
  }
  private nextNonSpace(): Token {
    let t = this.next();
    while (t.kind === 'space') t = this.next();
    return t;
  }
  private peekNonSpace(): Token {
    const t = this.nextNonSpace();
    this.backup();
    return t;
  }

  private errorAt(line: number, msg: string): never {
    throw new TemplateSyntaxError(msg, line);
  }
  private error(msg: string): never {
    // parse.go errorf: the line of the token being looked at.
    const t = this.tokens[Math.max(0, this.i - 1)]!;
    this.errorAt(t.line, msg);
  }
  private expect(kind: TokenKind, context: string): Token {
    const t = this.nextNonSpace();
    if (t.kind !== kind) this.unexpected(t, context);
    return t;
  }
  private unexpected(t: Token, context: string): never {
    this.error(`unexpected ${describe(t)} in ${context}`);
  }

  parse(): ParsedTemplate {
    const root: Node[] = [];
    while (this.peek().kind !== 'eof') {
      if (this.peek().kind === 'left') {
        const left = this.next();
        if (this.nextNonSpace().kind === 'keyword' && this.tokens[this.i - 1]!.text === 'define') {
          this.parseDefinition();
          continue;
        }
        this.i = this.tokens.indexOf(left);
      }
      const n = this.textOrAction();
      if (n.kind === 'end' || n.kind === 'else') this.error(`unexpected {{${n.kind}}}`);
      root.push(n as Node);
    }
    // The template itself joins the set under its name: a {{define}} of that name with content
    // stands in for an empty template, and conflicts with one that has content.
    this.addDefine(this.name, root);
    return { root: this.defines.get(this.name)!, defines: this.defines };
  }

  /**
   * parse.go Tree.add: a template replaces one of the same name that is empty (white space and
   * comments only); an empty one leaves the other in place; two with content are an error.
   */
  private addDefine(name: string, list: Node[]): void {
    const existing = this.defines.get(name);
    if (existing === undefined || isEmptyTree(existing)) {
      this.defines.set(name, list);
      return;
    }
    if (!isEmptyTree(list)) this.error(`template: multiple definition of template ${JSON.stringify(name)}`);
  }

  private parseDefinition(): void {
    const context = 'define clause';
    const nameTok = this.nextNonSpace();
    if (nameTok.kind !== 'string' && nameTok.kind !== 'rawString') this.unexpected(nameTok, context);
    const name = unquote(nameTok, (m) => this.errorAt(nameTok.line, m));
    this.expect('right', context);
    const savedVars = this.vars;
    this.vars = ['$'];
    const [list, end] = this.itemList();
    this.vars = savedVars;
    if (end.kind !== 'end') this.error(`unexpected {{${end.kind}}} in ${context}`);
    this.addDefine(name, list);
  }

  private itemList(): [Node[], EndNode] {
    const list: Node[] = [];
    while (this.peekNonSpace().kind !== 'eof') {
      const n = this.textOrAction();
      if (n.kind === 'end' || n.kind === 'else') return [list, n as EndNode];
      list.push(n as Node);
    }
    this.error('unexpected EOF');
  }

  private textOrAction(): Node | EndNode {
    const t = this.nextNonSpace();
    if (t.kind === 'text') return { kind: 'text', text: t.text, pos: t.pos, src: t.text };
    if (t.kind === 'left') return this.action(t);
    this.unexpected(t, 'input');
  }

  private action(left: Token): Node | EndNode {
    const t = this.nextNonSpace();
    if (t.kind === 'keyword') {
      switch (t.text) {
        case 'block':
          return this.blockControl();
        case 'break':
        case 'continue': {
          // parse.go breakControl: the delimiter first, then the range.
          const r = this.nextNonSpace();
          if (r.kind !== 'right') this.unexpected(r, `{{${t.text}}}`);
          if (this.rangeDepth === 0) this.error(`{{${t.text}}} outside {{range}}`);
          return { kind: t.text, pos: t.pos, src: t.text };
        }
        case 'else': {
          // parse.go elseControl: `else if` (and `else with`, Go 1.23) leaves the keyword for parseControl.
          const p = this.peekNonSpace();
          if (p.kind === 'keyword' && (p.text === 'if' || p.text === 'with')) return { kind: 'else', pos: t.pos, src: 'else' };
          this.expect('right', 'else');
          return { kind: 'else', pos: t.pos, src: 'else' };
        }
        case 'end':
          this.expect('right', 'end');
          return { kind: 'end', pos: t.pos, src: 'end' };
        case 'if':
          return this.parseControl(t, 'if', true);
        case 'range':
          return this.parseControl(t, 'range', false);
        case 'with':
          return this.parseControl(t, 'with', true);
        case 'template':
          return this.templateControl();
      }
    }
    this.backup();
    const pipe = this.pipeline('command', 'right');
    return { kind: 'action', pipe, pos: left.pos, src: pipe.src };
  }

  private parseControl(kw: Token, context: 'if' | 'range' | 'with', allowElseIf: boolean): Node {
    const mark = this.vars.length;
    try {
      const pipe = this.pipeline(context, 'right');
      if (context === 'range') this.rangeDepth++;
      const [list, next] = this.itemList();
      if (context === 'range') this.rangeDepth--;
      let elseList: Node[] | undefined;
      if (next.kind === 'else') {
        const p = this.peek();
        if (allowElseIf && p.kind === 'keyword' && p.text === context) {
          // {{if a}}x{{else if b}}y{{end}} is {{if a}}x{{else}}{{if b}}y{{end}}{{end}}: one {{end}}.
          // Same for {{with a}}x{{else with b}}y{{end}} (Go 1.23).
          const kw2 = this.next();
          elseList = [this.parseControl(kw2, context as 'if' | 'with', true)];
        } else {
          const [l, end] = this.itemList();
          if (end.kind !== 'end') this.error(`expected end; found {{${end.kind}}}`);
          elseList = l;
        }
      }
      return { kind: context, pipe, list, elseList, pos: kw.pos, src: `${context} ${pipe.src}` };
    } finally {
      this.vars.length = mark;
    }
  }

  private templateName(t: Token, context: string): string {
    if (t.kind !== 'string' && t.kind !== 'rawString') this.unexpected(t, context);
    return unquote(t, (m) => this.errorAt(t.line, m));
  }

  private templateControl(): Node {
    const context = 'template clause';
    const nameTok = this.nextNonSpace();
    const name = this.templateName(nameTok, context);
    let pipe: Pipe | undefined;
    if (this.nextNonSpace().kind !== 'right') {
      this.backup();
      pipe = this.pipeline(context, 'right');
    }
    // node.go TemplateNode: at the name, printed as the whole action.
    return { kind: 'template', name, pipe, pos: nameTok.pos, src: `{{template ${JSON.stringify(name)}${pipe ? ` ${pipe.src}` : ''}}}` };
  }

  private blockControl(): Node {
    const context = 'block clause';
    const nameTok = this.nextNonSpace();
    const name = this.templateName(nameTok, context);
    const pipe = this.pipeline(context, 'right');
    const savedVars = this.vars;
    const savedDepth = this.rangeDepth;
    this.vars = ['$'];
    this.rangeDepth = 0;
    const [list, end] = this.itemList();
    this.vars = savedVars;
    this.rangeDepth = savedDepth;
    if (end.kind !== 'end') this.error(`unexpected {{${end.kind}}} in ${context}`);
    this.addDefine(name, list);
    return { kind: 'template', name, pipe, pos: nameTok.pos, src: `{{template ${JSON.stringify(name)} ${pipe.src}}}` };
  }

  private pipeline(context: string, end: 'right' | 'rightParen'): Pipe {
    const start = this.peekNonSpace();
    const pipe: Pipe = { decl: [], isAssign: false, cmds: [], pos: start.pos, src: '' };
    // Declarations: `$x :=`, `$x =`, and in range `$i, $v :=`.
    for (;;) {
      const v = this.peekNonSpace();
      if (v.kind !== 'variable') break;
      this.nextNonSpace();
      const nxt = this.peekNonSpace();
      if (nxt.kind === 'assign' || nxt.kind === 'declare') {
        pipe.isAssign = nxt.kind === 'assign';
        this.nextNonSpace();
        pipe.decl.push(v.text);
        this.vars.push(v.text);
        break;
      }
      if (nxt.kind === 'comma') {
        this.nextNonSpace();
        pipe.decl.push(v.text);
        this.vars.push(v.text);
        if (context === 'range' && pipe.decl.length < 2) {
          const k = this.peekNonSpace().kind;
          if (k === 'variable' || k === 'right' || k === 'rightParen') continue;
          this.error('range can only initialize variables');
        }
        this.error(`too many declarations in ${context}`);
      }
      // Not a declaration: put the variable back.
      this.i = this.tokens.indexOf(v);
      break;
    }
    for (;;) {
      const t = this.nextNonSpace();
      if (t.kind === end) {
        this.checkPipeline(pipe, context);
        pipe.src = this.input.slice(start.pos, t.pos).trim();
        return pipe;
      }
      switch (t.kind) {
        case 'bool':
        case 'char':
        case 'dot':
        case 'field':
        case 'identifier':
        case 'number':
        case 'nil':
        case 'rawString':
        case 'string':
        case 'variable':
        case 'leftParen':
          this.backup();
          pipe.cmds.push(this.command());
          break;
        default:
          this.unexpected(t, context);
      }
    }
  }

  private checkPipeline(pipe: Pipe, context: string): void {
    if (pipe.cmds.length === 0) this.error(`missing value for ${context}`);
    pipe.cmds.slice(1).forEach((c, i) => {
      const k = c.args[0]!.kind;
      if (k === 'bool' || k === 'dot' || k === 'nil' || k === 'number' || k === 'string') {
        this.error(`non executable command in pipeline stage ${i + 2}`);
      }
    });
  }

  private command(): Command {
    const start = this.peekNonSpace();
    const cmd: Command = { args: [], pos: start.pos, src: '' };
    let endPos = start.pos;
    for (;;) {
      this.peekNonSpace();
      const op = this.operand();
      if (op) {
        cmd.args.push(op);
        endPos = this.peek().pos;
      }
      const t = this.next();
      if (t.kind === 'space') continue;
      if (t.kind === 'right' || t.kind === 'rightParen') this.backup();
      else if (t.kind !== 'pipe') this.unexpected(t, 'operand');
      break;
    }
    if (cmd.args.length === 0) this.error('empty command');
    cmd.src = this.input.slice(start.pos, endPos).trim();
    return cmd;
  }

  private operand(): Operand | undefined {
    const node = this.term();
    if (!node) return undefined;
    if (this.peek().kind !== 'field') return node;
    const fields: string[] = [];
    // parse.go operand: a chain sits at its first chained field.
    const chainPos = this.peek().pos;
    let endPos = node.pos;
    while (this.peek().kind === 'field') {
      const f = this.next();
      fields.push(f.text.slice(1));
      endPos = f.pos + f.text.length;
    }
    const src = this.input.slice(node.pos, endPos);
    switch (node.kind) {
      case 'field':
        return { kind: 'field', idents: [...node.idents, ...fields], pos: chainPos, src };
      case 'variable':
        return { kind: 'variable', idents: [...node.idents, ...fields], pos: chainPos, src };
      case 'bool':
      case 'string':
      case 'number':
      case 'nil':
      case 'dot':
        this.error(`unexpected . after term ${JSON.stringify(node.src)}`);
      // falls through (error throws)
      default:
        return { kind: 'chain', node, fields, pos: chainPos, src };
    }
  }

  private term(): Operand | undefined {
    const t = this.nextNonSpace();
    const at = { pos: t.pos, src: t.text };
    switch (t.kind) {
      case 'identifier':
        if (!this.hasFunction(t.text)) this.error(`function ${JSON.stringify(t.text)} not defined`);
        return { kind: 'identifier', name: t.text, ...at };
      case 'dot':
        return { kind: 'dot', ...at };
      case 'nil':
        return { kind: 'nil', ...at };
      case 'variable': {
        const name = t.text;
        if (!this.vars.includes(name)) this.error(`undefined variable ${JSON.stringify(name)}`);
        return { kind: 'variable', idents: [name], ...at };
      }
      case 'field':
        return { kind: 'field', idents: [t.text.slice(1)], ...at };
      case 'bool':
        return { kind: 'bool', value: t.text === 'true', ...at };
      case 'char':
      case 'number':
        return { kind: 'number', num: this.number(t), ...at };
      case 'leftParen': {
        const pipe = this.pipeline('parenthesized pipeline', 'rightParen');
        return { kind: 'pipe', pipe, pos: t.pos, src: `(${pipe.src})` };
      }
      case 'string':
      case 'rawString':
        return { kind: 'string', value: unquote(t, (m) => this.error(m)), ...at };
    }
    this.backup();
    return undefined;
  }

  /** node.go newNumber. */
  private number(t: Token): NumberConstant {
    const text = t.text;
    if (t.kind === 'char') {
      const s = unquote({ ...t, text: `"${text.slice(1, -1).replace(/\\'/g, "'").replace(/"/g, '\\"')}"` }, (m) => this.error(m));
      const cps = [...s];
      if (cps.length === 0) this.error('invalid syntax');
      if (cps.length !== 1) this.error(`malformed character constant: ${text}`);
      const r = cps[0]!.codePointAt(0)!;
      return { text, isInt: true, isUint: true, isFloat: true, int: BigInt(r), float: r };
    }
    if (text.endsWith('i')) this.error(`complex numbers are not supported here: ${JSON.stringify(text)}`);
    const asInt = parseGoInt(text);
    if (asInt !== undefined) {
      if (asInt >= -0x8000000000000000n && asInt <= 0x7fffffffffffffffn) return { text, isInt: true, isUint: asInt >= 0n, isFloat: true, int: asInt, float: Number(asInt) };
      // A uint64 is a constant that fails only where it is used (exec.go idealConstant: "overflows int").
      if (asInt > 0n && asInt <= 0xffffffffffffffffn) return { text, isInt: false, isUint: true, isFloat: true, int: asInt, float: Number(asInt) };
      this.error(`integer overflow: ${JSON.stringify(text)}`);
    }
    const f = parseGoFloat(text);
    if (f === undefined) this.error(`illegal number syntax: ${JSON.stringify(text)}`);
    if (!/[.eEpP]/.test(text)) this.error(`integer overflow: ${JSON.stringify(text)}`);
    const isInt = Number.isInteger(f) && Math.abs(f) < 2 ** 63;
    return { text, isInt, isUint: isInt && f >= 0, isFloat: true, int: isInt ? BigInt(f) : 0n, float: f };
  }
}

function isEmptyTree(list: Node[]): boolean {
  return list.every((n) => n.kind === 'text' && trimSpace(n.text) === '');
}

function describe(t: Token): string {
  // parse/lex.go item.String.
  if (t.kind === 'eof') return 'EOF';
  // Keywords, and . and nil, which lex.go counts among them.
  if (t.kind === 'keyword' || t.kind === 'dot' || t.kind === 'nil') return `<${t.text}>`;
  if (t.kind === 'right') return '"}}"';
  if (t.kind === 'left') return '"{{"';
  if (t.text.length > 10) return `${JSON.stringify(t.text.slice(0, 10))}...`;
  return JSON.stringify(t.text);
}

/** strconv.ParseInt(text, 0, 64): 0x, 0o, 0b, a leading 0 for octal, `_` between digits. */
function parseGoInt(text: string): bigint | undefined {
  let s = text;
  let neg = false;
  if (s[0] === '+' || s[0] === '-') {
    neg = s[0] === '-';
    s = s.slice(1);
  }
  let re: RegExp;
  let prefix = '';
  if (/^0[xX]/.test(s)) {
    re = /^[0-9a-fA-F]+(_[0-9a-fA-F]+)*$/;
    prefix = '0x';
    s = s.slice(2).replace(/^_/, '');
  } else if (/^0[oO]/.test(s)) {
    re = /^[0-7]+(_[0-7]+)*$/;
    prefix = '0o';
    s = s.slice(2).replace(/^_/, '');
  } else if (/^0[bB]/.test(s)) {
    re = /^[01]+(_[01]+)*$/;
    prefix = '0b';
    s = s.slice(2).replace(/^_/, '');
  } else if (/^0[0-7_]/.test(s)) {
    re = /^[0-7]+(_[0-7]+)*$/;
    prefix = '0o';
    s = s.slice(1).replace(/^_/, '');
  } else {
    re = /^[0-9]+(_[0-9]+)*$/;
  }
  if (!re.test(s)) return undefined;
  const v = BigInt(prefix + s.replace(/_/g, ''));
  return neg ? -v : v;
}

function parseGoFloat(text: string): number | undefined {
  const s = text.replace(/_/g, '');
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return Number(s);
  const hex = /^([+-]?)0[xX]([0-9a-fA-F]*)\.?([0-9a-fA-F]*)[pP]([+-]?\d+)$/.exec(s);
  if (hex) {
    const mant = parseInt(hex[2]! + hex[3]! || '0', 16) / 16 ** hex[3]!.length;
    const v = mant * 2 ** Number(hex[4]);
    return hex[1] === '-' ? -v : v;
  }
  return undefined;
}

/** strconv.Unquote for "..." (Go escapes) and `...`. */
export function unquote(t: Token, fail: (msg: string) => never): string {
  const text = t.text;
  if (t.kind === 'rawString') return text.slice(1, -1).replace(/\r/g, '');
  let out = '';
  const body = text.slice(1, -1);
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = body[++i];
    const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"' };
    if (e !== undefined && simple[e] !== undefined) out += simple[e];
    else if (e === 'x' || e === 'u' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) fail('invalid syntax');
      out += String.fromCodePoint(parseInt(hex, 16));
      i += n;
    } else if (e !== undefined && /[0-7]/.test(e)) {
      const oct = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(oct)) fail('invalid syntax');
      out += String.fromCharCode(parseInt(oct, 8));
      i += 2;
    } else fail('invalid syntax');
  }
  return out;
}
