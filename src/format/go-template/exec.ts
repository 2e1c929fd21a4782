/**
 * Executes a parsed Go template on a value (Go src/text/template/exec.go): the same dot and
 * variable rules, the same truth (isTrue), the same conversion of an argument to the type the
 * function declares (evalArg / validateType, so `{{repeat (add 1 2) "x"}}` fails as in Go since
 * add returns int64), a missing map key printed `<no value>`, a pipeline's nil result treated as
 * no value (evalPipeline unwraps interface{}), and errors worded as Go words them.
 */
import { compareStrings, printValue } from './fmt.js';
import type { Command, NumberConstant, Node, Operand, ParsedTemplate, Pipe } from './parse.js';
import { GoInt, isList, isMap, isStringMap, MISSING, truth, typeName, type GoValue } from './values.js';

/** The Go type of a function parameter, as far as evalArg needs it. */
export type ParamType = 'any' | 'value' | 'string' | 'int' | 'float64' | 'bool' | 'map';

export interface GoFunc {
  params: ParamType[];
  /** The element type of a final `...T` parameter. */
  variadic?: ParamType;
  call(args: GoValue[]): GoValue;
}

/** An error a function returns (or panics with): Go prints "error calling NAME: message". */
export class FuncError extends Error {}

/** An error while executing, already worded as Go's ExecError, with what was written before it. */
export class TemplateExecError extends Error {
  constructor(
    message: string,
    readonly written: string,
  ) {
    super(message);
  }
}

const MAX_DEPTH = 1000;

class Break {}
class Continue {}

const GO_TYPE: Record<ParamType, string> = {
  any: 'interface {}',
  value: 'reflect.Value',
  string: 'string',
  int: 'int',
  float64: 'float64',
  bool: 'bool',
  map: 'map[string]interface {}',
};

interface Variable {
  name: string;
  value: GoValue;
  /** The value sits in an interface{} (a range element), which Go names in a field error. */
  iface?: boolean;
}

export function execute(tpl: ParsedTemplate, funcs: Map<string, GoFunc>, data: GoValue, name: string, source: string): string {
  return new State(tpl, funcs, name, source).run(data);
}

class State {
  private out: string[] = [];
  private vars: Variable[] = [];
  private node: { pos: number; src: string } = { pos: 0, src: '' };
  private depth = 0;
  /**
   * Whether dot's static type is interface{}: a range element of the document is, the document
   * and a pipeline's result are not. Only Go's "can't evaluate field X in type T" shows it.
   */
  private dotIface = false;

  constructor(
    private tpl: ParsedTemplate,
    private funcs: Map<string, GoFunc>,
    private name: string,
    private source: string,
  ) {}

  run(data: GoValue): string {
    this.vars = [{ name: '$', value: data }];
    this.walk(data, this.tpl.root);
    return this.out.join('');
  }

  /** exec.go errorf: "template: NAME:LINE:COL: executing "NAME" at <NODE>: message". */
  private fail(msg: string): never {
    const before = this.source.slice(0, this.node.pos);
    const nl = before.lastIndexOf('\n');
    const line = before.split('\n').length;
    const col = Buffer.byteLength(nl < 0 ? before : before.slice(nl + 1), 'utf8');
    const src = this.node.src.length > 0 ? this.node.src : '';
    throw new TemplateExecError(`template: ${this.name}:${line}:${col}: executing "${this.name}" at <${src}>: ${msg}`, this.out.join(''));
  }

  private at(n: { pos: number; src: string }): void {
    this.node = n;
  }

  private walk(dot: GoValue, list: Node[]): void {
    for (const n of list) this.walkNode(dot, n);
  }

  private walkWithDot(dot: GoValue, iface: boolean, list: Node[]): void {
    const saved = this.dotIface;
    this.dotIface = iface;
    try {
      this.walk(dot, list);
    } finally {
      this.dotIface = saved;
    }
  }

  private walkNode(dot: GoValue, n: Node): void {
    switch (n.kind) {
      case 'text':
        this.out.push(n.text);
        return;
      case 'action': {
        const v = this.evalPipeline(dot, n.pipe);
        if (n.pipe.decl.length === 0) this.printValue(n, v);
        return;
      }
      case 'if':
      case 'with': {
        const mark = this.vars.length;
        const v = this.evalPipeline(dot, n.pipe);
        if (truth(v)) {
          if (n.kind === 'with') this.walkWithDot(v, false, n.list);
          else this.walk(dot, n.list);
        }
        else if (n.elseList) this.walk(dot, n.elseList);
        this.vars.length = mark;
        return;
      }
      case 'range':
        this.walkRange(dot, n);
        return;
      case 'template': {
        const t = this.tpl.defines.get(n.name);
        this.at(n);
        if (!t) this.fail(`template ${JSON.stringify(n.name)} not defined`);
        // exec.go maxExecDepth (100000 in Go): ours is lower so that a template calling itself
        // for ever fails before the JS stack does.
        if (this.depth >= MAX_DEPTH) this.fail(`exceeded maximum template depth (${MAX_DEPTH})`);
        const newDot = n.pipe ? this.evalPipeline(dot, n.pipe) : MISSING;
        const saved = this.vars;
        this.vars = [{ name: '$', value: newDot }];
        this.depth++;
        try {
          this.walkWithDot(newDot, false, t);
        } finally {
          this.depth--;
          this.vars = saved;
        }
        return;
      }
      case 'break':
        throw new Break();
      case 'continue':
        throw new Continue();
    }
  }

  private walkRange(dot: GoValue, n: Extract<Node, { kind: 'range' }>): void {
    this.at(n);
    const mark = this.vars.length;
    const val = this.evalPipeline(dot, n.pipe);
    const bodyMark = this.vars.length;
    // Elements of []interface{} and map[string]interface{} are interface{}; of []string and of an integer not.
    const elemIface = !(val instanceof GoInt) && !(isList(val) && val.elem !== undefined) && !isStringMap(val);
    const one = (index: GoValue, elem: GoValue): boolean => {
      // The last declared variable is the element, the first of two the index (setTopVar).
      if (n.pipe.decl.length > 0) Object.assign(this.vars[bodyMark - 1]!, { value: elem, iface: elemIface });
      if (n.pipe.decl.length > 1) Object.assign(this.vars[bodyMark - 2]!, { value: index, iface: false });
      try {
        this.walkWithDot(elem, elemIface, n.list);
      } catch (e) {
        if (e instanceof Continue) return true;
        if (e instanceof Break) return false;
        throw e;
      } finally {
        this.vars.length = bodyMark;
      }
      return true;
    };
    let iterated = false;
    if (isList(val)) {
      for (let i = 0; i < val.length; i++) {
        iterated = true;
        if (!one(new GoInt(BigInt(i)), val[i]!)) break;
      }
    } else if (isMap(val)) {
      for (const k of Object.keys(val).sort(compareStrings)) {
        iterated = true;
        if (!one(k, val[k]!)) break;
      }
    } else if (val instanceof GoInt) {
      // Go 1.22: range over an integer n runs 0 .. n-1, the number as the element.
      if (n.pipe.decl.length > 1) this.fail(`can't use ${val.value} to iterate over more than one variable`);
      for (let i = 0n; i < val.value; i++) {
        iterated = true;
        if (!one(MISSING, new GoInt(i))) break;
      }
    } else if (val !== MISSING && val !== null) {
      this.fail(`range can't iterate over ${printValue(val, 'v', { plus: false, minus: false, sharp: false, space: false, zero: false }, 0)}`);
    }
    if (!iterated && n.elseList) this.walk(dot, n.elseList);
    this.vars.length = mark;
  }

  private printValue(n: { pos: number; src: string }, v: GoValue): void {
    this.at(n);
    this.out.push(v === MISSING ? '<no value>' : printValue(v, 'v', { plus: false, minus: false, sharp: false, space: false, zero: false }, 0));
  }

  private evalPipeline(dot: GoValue, pipe: Pipe): GoValue {
    this.at(pipe);
    let value: GoValue | undefined;
    for (const cmd of pipe.cmds) {
      value = this.evalCommand(dot, cmd, value);
      // exec.go: a result of type interface{} is unwrapped, so a nil one becomes no value.
      if (value === null) value = MISSING;
    }
    const v = value ?? MISSING;
    for (const name of pipe.decl) {
      if (pipe.isAssign) this.setVar(name, v);
      else this.vars.push({ name, value: v });
    }
    return v;
  }

  private setVar(name: string, value: GoValue): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    }
    this.fail(`undefined variable: ${name}`);
  }

  private variable(name: string): Variable {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!;
    this.fail(`undefined variable: ${name}`);
  }

  private notAFunction(args: Operand[], final: GoValue | undefined): void {
    // A parenthesised pipeline is named without its parentheses (node.go PipeNode.String).
    const first = args[0]!;
    if (args.length > 1 || final !== undefined) this.fail(`can't give argument to non-function ${first.kind === 'pipe' ? first.pipe.src : first.src}`);
  }

  private evalCommand(dot: GoValue, cmd: Command, final: GoValue | undefined): GoValue {
    const first = cmd.args[0]!;
    switch (first.kind) {
      case 'field':
        this.at(first);
        return this.evalFieldChain(dot, this.dotIface, first.idents, cmd.args, final);
      case 'chain':
        return this.evalChain(dot, first, cmd.args, final);
      case 'identifier':
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first.pipe);
      case 'variable':
        return this.evalVariable(dot, first, cmd.args, final);
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.kind) {
      case 'bool':
        return first.value;
      case 'dot':
        return dot;
      case 'nil':
        this.fail('nil is not a command');
      // falls through (fail throws)
      case 'number':
        return this.idealConstant(first.num);
      case 'string':
        return first.value;
    }
  }

  /** exec.go idealConstant: a literal with . e E p P is a float64, else an int. */
  private idealConstant(n: NumberConstant): GoValue {
    if (n.isFloat && !/^[+-]?0[xX][0-9a-fA-F_]*$/.test(n.text) && !n.text.startsWith("'") && /[.eEpP]/.test(n.text)) return n.float;
    if (n.isInt) return new GoInt(n.int);
    if (n.isUint) this.fail(`${n.text} overflows int`);
    return n.float;
  }

  private evalVariable(dot: GoValue, v: Extract<Operand, { kind: 'variable' }>, args: Operand[], final: GoValue | undefined): GoValue {
    this.at(v);
    const variable = this.variable(v.idents[0]!);
    if (v.idents.length === 1) {
      this.notAFunction(args, final);
      return variable.value;
    }
    return this.evalFieldChain(variable.value, variable.iface === true, v.idents.slice(1), args, final);
  }

  private evalChain(dot: GoValue, chain: Extract<Operand, { kind: 'chain' }>, args: Operand[], final: GoValue | undefined): GoValue {
    if (args.length > 1 || final !== undefined) {
      this.at(chain);
      this.fail(`can't give argument to non-function ${chain.node.src}`);
    }
    // exec.go evalChainNode: the term as an untyped argument (no value stays no value).
    const receiver = this.evalArg(dot, 'value', chain.node);
    return this.evalFieldChain(receiver, false, chain.fields, [chain], final);
  }

  /** exec.go evalFieldChain; `iface`: the receiver's static type is interface{}, as every map element's is. */
  private evalFieldChain(receiver: GoValue, iface: boolean, idents: string[], args: Operand[], final: GoValue | undefined): GoValue {
    let r = receiver;
    for (let i = 0; i < idents.length - 1; i++) r = this.evalField(idents[i]!, [], undefined, r, i === 0 ? iface : true);
    return this.evalField(idents[idents.length - 1]!, args, final, r, idents.length === 1 ? iface : true);
  }

  /** exec.go evalField, for the maps JSON gives: a key, or an error saying why not. */
  private evalField(field: string, args: Operand[], final: GoValue | undefined, receiver: GoValue, iface: boolean): GoValue {
    if (receiver === MISSING) return MISSING;
    if (receiver === null) this.fail(`nil pointer evaluating interface {}.${field}`);
    const hasArgs = args.length > 1 || final !== undefined;
    if (isMap(receiver)) {
      if (hasArgs) this.fail(`${field} is not a method but has arguments`);
      return Object.prototype.hasOwnProperty.call(receiver, field) ? receiver[field]! : MISSING;
    }
    this.fail(`can't evaluate field ${field} in type ${iface ? 'interface {}' : typeName(receiver)}`);
  }

  private evalFunction(dot: GoValue, id: Extract<Operand, { kind: 'identifier' }>, cmd: Command | Operand, args: Operand[], final: GoValue | undefined): GoValue {
    this.at(id);
    const fn = this.funcs.get(id.name);
    if (!fn) this.fail(`${JSON.stringify(id.name)} is not a defined function`);
    return this.evalCall(dot, fn, id.name, cmd, args, final);
  }

  private evalCall(dot: GoValue, fn: GoFunc, name: string, node: { pos: number; src: string }, allArgs: Operand[], final: GoValue | undefined): GoValue {
    const args = allArgs.slice(1);
    const numIn = args.length + (final !== undefined ? 1 : 0);
    const numFixed = fn.variadic ? fn.params.length : args.length;
    if (fn.variadic) {
      if (numIn < numFixed) this.fail(`wrong number of args for ${name}: want at least ${fn.params.length} got ${args.length}`);
    } else if (numIn !== fn.params.length) this.fail(`wrong number of args for ${name}: want ${fn.params.length} got ${numIn}`);

    // and/or evaluate their operands one by one and stop at the first that decides (Go 1.18).
    if (name === 'and' || name === 'or') {
      let v: GoValue = MISSING;
      for (const a of args) {
        v = this.evalArg(dot, 'value', a);
        if (truth(v) === (name === 'or')) return v;
      }
      if (final !== undefined) v = this.validateType(final, 'value');
      return v;
    }
    const argv: GoValue[] = [];
    let i = 0;
    for (; i < numFixed && i < args.length; i++) argv.push(this.evalArg(dot, fn.params[i]!, args[i]!));
    if (fn.variadic) for (; i < args.length; i++) argv.push(this.evalArg(dot, fn.variadic, args[i]!));
    if (final !== undefined) {
      const t = fn.variadic && numIn - 1 >= numFixed ? fn.variadic : fn.params[numIn - 1]!;
      argv.push(this.validateType(final, t));
    }
    try {
      return fn.call(argv);
    } catch (e) {
      if (e instanceof FuncError || e instanceof RangeError) {
        this.at(node);
        this.fail(`error calling ${name}: ${e.message}`);
      }
      throw e;
    }
  }

  /** exec.go validateType: a value of the wrong type is refused, a missing one is the zero value. */
  private validateType(value: GoValue, typ: ParamType): GoValue {
    if (value === MISSING) {
      if (typ === 'any' || typ === 'map' || typ === 'value') return typ === 'value' ? MISSING : null;
      this.fail(`invalid value; expected ${GO_TYPE[typ]}`);
    }
    if (typ === 'any' || typ === 'value') return value;
    if (value === null) {
      if (typ === 'map') return value;
      this.fail(`wrong type for value; expected ${GO_TYPE[typ]}; got <nil>`);
    }
    const ok =
      (typ === 'string' && typeof value === 'string') ||
      (typ === 'bool' && typeof value === 'boolean') ||
      (typ === 'float64' && typeof value === 'number') ||
      (typ === 'int' && value instanceof GoInt && value.type === 'int') ||
      (typ === 'map' && isMap(value) && !isStringMap(value));
    if (!ok) this.fail(`wrong type for value; expected ${GO_TYPE[typ]}; got ${typeName(value)}`);
    return value;
  }

  private evalArg(dot: GoValue, typ: ParamType, n: Operand): GoValue {
    this.at(n);
    switch (n.kind) {
      case 'dot':
        return this.validateType(dot, typ);
      case 'nil':
        if (typ === 'any' || typ === 'map' || typ === 'value') return typ === 'value' ? MISSING : null;
        this.fail(`cannot assign nil to ${GO_TYPE[typ]}`);
      // falls through (fail throws)
      case 'field':
        return this.validateType(this.evalFieldChain(dot, this.dotIface, n.idents, [n], undefined), typ);
      case 'variable':
        return this.validateType(this.evalVariable(dot, n, [], undefined), typ);
      case 'pipe':
        return this.validateType(this.evalPipeline(dot, n.pipe), typ);
      case 'identifier':
        return this.validateType(this.evalFunction(dot, n, n, [n], undefined), typ);
      case 'chain':
        return this.validateType(this.evalChain(dot, n, [], undefined), typ);
    }
    switch (typ) {
      case 'bool':
        if (n.kind === 'bool') return n.value;
        this.fail(`expected bool; found ${n.src}`);
      // falls through (fail throws)
      case 'float64':
        if (n.kind === 'number' && n.num.isFloat) return n.num.float;
        this.fail(`expected float; found ${n.src}`);
      // falls through (fail throws)
      case 'int':
        if (n.kind === 'number' && n.num.isInt) return new GoInt(n.num.int);
        this.fail(`expected integer; found ${n.src}`);
      // falls through (fail throws)
      case 'string':
        if (n.kind === 'string') return n.value;
        this.fail(`expected string; found ${n.src}`);
      // falls through (fail throws)
      case 'map':
        this.fail(`can't handle ${n.src} for arg of type map[string]interface {}`);
      // falls through (fail throws)
      default:
        // evalEmptyInterface
        if (n.kind === 'bool') return n.value;
        if (n.kind === 'number') return this.idealConstant(n.num);
        return n.value;
    }
  }
}
