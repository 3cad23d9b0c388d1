// A small assembler from WebAssembly text (the folded s-expression form of the spec, for the subset of
// instructions ./kernels.ts uses) to a binary module that imports its memory as env.memory, so its functions
// work directly on tfjs-wasm's heap. Kept small on purpose: no tables, globals or data; every function exported.

export type ValueType = 'i32' | 'f32' | 'f64' | 'v128';

export interface FuncSource {
  name: string;
  params: [string, ValueType][];
  result?: ValueType;
  locals: [string, ValueType][];
  /** Folded WAT instructions, e.g. `(local.set $i (i32.add (local.get $i) (i32.const 1)))`. */
  body: string;
}

const TYPE_CODE: Record<ValueType, number> = { i32: 0x7f, f32: 0x7d, f64: 0x7c, v128: 0x7b };

/** Plain opcodes (no immediates). */
const PLAIN: Record<string, number> = {
  unreachable: 0x00,
  nop: 0x01,
  return: 0x0f,
  drop: 0x1a,
  select: 0x1b,
  'i32.eqz': 0x45,
  'i32.eq': 0x46,
  'i32.ne': 0x47,
  'i32.lt_s': 0x48,
  'i32.lt_u': 0x49,
  'i32.gt_s': 0x4a,
  'i32.gt_u': 0x4b,
  'i32.le_s': 0x4c,
  'i32.le_u': 0x4d,
  'i32.ge_s': 0x4e,
  'i32.ge_u': 0x4f,
  'f32.eq': 0x5b,
  'f32.ne': 0x5c,
  'f32.lt': 0x5d,
  'f32.gt': 0x5e,
  'f32.le': 0x5f,
  'f32.ge': 0x60,
  'i32.add': 0x6a,
  'i32.sub': 0x6b,
  'i32.mul': 0x6c,
  'i32.div_s': 0x6d,
  'i32.div_u': 0x6e,
  'i32.rem_s': 0x6f,
  'i32.rem_u': 0x70,
  'i32.and': 0x71,
  'i32.or': 0x72,
  'i32.xor': 0x73,
  'i32.shl': 0x74,
  'i32.shr_s': 0x75,
  'i32.shr_u': 0x76,
  'f32.abs': 0x8b,
  'f32.neg': 0x8c,
  'f32.ceil': 0x8d,
  'f32.floor': 0x8e,
  'f32.trunc': 0x8f,
  'f32.nearest': 0x90,
  'f32.sqrt': 0x91,
  'f32.add': 0x92,
  'f32.sub': 0x93,
  'f32.mul': 0x94,
  'f32.div': 0x95,
  'f32.min': 0x96,
  'f32.max': 0x97,
  'f64.sqrt': 0x9f,
  'f64.add': 0xa0,
  'f64.sub': 0xa1,
  'f64.mul': 0xa2,
  'f64.div': 0xa3,
  'i32.trunc_f32_s': 0xa8,
  'f32.convert_i32_s': 0xb2,
  'f32.demote_f64': 0xb6,
  'f64.convert_i32_s': 0xb7,
  'f64.promote_f32': 0xbb,
  'i32.reinterpret_f32': 0xbc,
  'f32.reinterpret_i32': 0xbe,
};

/** SIMD opcodes (prefix 0xfd, LEB128 sub-opcode), no immediates. */
const SIMD: Record<string, number> = {
  'i32x4.splat': 0x11,
  'f32x4.splat': 0x13,
  'f32x4.eq': 0x41,
  'f32x4.ne': 0x42,
  'f32x4.lt': 0x43,
  'f32x4.gt': 0x44,
  'f32x4.le': 0x45,
  'f32x4.ge': 0x46,
  'v128.not': 0x4d,
  'v128.and': 0x4e,
  'v128.andnot': 0x4f,
  'v128.or': 0x50,
  'v128.xor': 0x51,
  'v128.bitselect': 0x52,
  'f32x4.ceil': 0x67,
  'f32x4.floor': 0x68,
  'f32x4.trunc': 0x69,
  'f32x4.nearest': 0x6a,
  'i32x4.shl': 0xab,
  'i32x4.shr_s': 0xac,
  'i32x4.shr_u': 0xad,
  'i32x4.add': 0xae,
  'i32x4.sub': 0xb1,
  'i32x4.mul': 0xb5,
  'f32x4.abs': 0xe0,
  'f32x4.neg': 0xe1,
  'f32x4.sqrt': 0xe3,
  'f32x4.add': 0xe4,
  'f32x4.sub': 0xe5,
  'f32x4.mul': 0xe6,
  'f32x4.div': 0xe7,
  'f32x4.min': 0xe8,
  'f32x4.max': 0xe9,
  'f32x4.pmin': 0xea,
  'f32x4.pmax': 0xeb,
  'i32x4.trunc_sat_f32x4_s': 0xf8,
  'f32x4.convert_i32x4_s': 0xfa,
};

/** Loads and stores: opcode and natural alignment (log2 bytes). */
const MEMORY: Record<string, [number[], number]> = {
  'i32.load': [[0x28], 2],
  'f32.load': [[0x2a], 2],
  'f64.load': [[0x2b], 3],
  'i32.store': [[0x36], 2],
  'f32.store': [[0x38], 2],
  'f64.store': [[0x39], 3],
  'v128.load': [[0xfd, 0x00], 4],
  'v128.store': [[0xfd, 0x0b], 4],
  'v128.load32_splat': [[0xfd, 0x09], 2],
};

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const str = (s: string) => [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];
const section = (id: number, bytes: number[]) => [id, ...uleb(bytes.length), ...bytes];
const vector = (items: number[][]) => [...uleb(items.length), ...items.flat()];

type Node = string | Node[];

function parse(source: string): Node[] {
  const tokens = source.replace(/;;[^\n]*/g, '').match(/\(|\)|[^\s()]+/g) ?? [];
  let at = 0;
  const list = (): Node[] => {
    const out: Node[] = [];
    while (at < tokens.length && tokens[at] !== ')') {
      const t = tokens[at++];
      if (t === '(') {
        out.push(list());
        if (tokens[at++] !== ')') throw new Error('wat: missing )');
      } else out.push(t);
    }
    return out;
  };
  const nodes = list();
  if (at !== tokens.length) throw new Error('wat: unbalanced )');
  return nodes;
}

class FunctionEmitter {
  readonly code: number[] = [];
  private readonly labels: (string | null)[] = [];

  constructor(
    private readonly fn: FuncSource,
    private readonly localIndex: Map<string, number>,
    private readonly funcIndex: Map<string, number>,
  ) {}

  private fail(message: string, node: Node): never {
    throw new Error(`wat ${this.fn.name}: ${message} in ${JSON.stringify(node).slice(0, 200)}`);
  }

  private local(name: Node, node: Node): number {
    const i = typeof name === 'string' ? this.localIndex.get(name.replace(/^\$/, '')) : undefined;
    if (i === undefined) this.fail(`unknown local ${String(name)}`, node);
    return i;
  }

  private depth(label: Node, node: Node): number {
    const name = typeof label === 'string' ? label.replace(/^\$/, '') : '';
    const i = this.labels.lastIndexOf(name);
    if (i < 0) this.fail(`unknown label ${String(label)}`, node);
    return this.labels.length - 1 - i;
  }

  body(nodes: Node[]): void {
    for (const n of nodes) this.expr(n);
  }

  private expr(node: Node): void {
    if (!Array.isArray(node)) this.fail('expected a folded instruction', node);
    const [op, ...rest] = node;
    if (typeof op !== 'string') this.fail('expected an opcode', node);
    const c = this.code;
    const args = (from: number) => {
      for (const n of rest.slice(from)) this.expr(n);
    };
    switch (op) {
      case 'local.get':
      case 'local.set':
      case 'local.tee':
        args(1);
        c.push({ 'local.get': 0x20, 'local.set': 0x21, 'local.tee': 0x22 }[op], ...uleb(this.local(rest[0], node)));
        return;
      case 'i32.const':
        c.push(0x41, ...sleb(Number(rest[0]) | 0));
        return;
      case 'f32.const': {
        const b = new Uint8Array(new Float32Array([Number(rest[0])]).buffer);
        c.push(0x43, ...b);
        return;
      }
      case 'f64.const': {
        const b = new Uint8Array(new Float64Array([Number(rest[0])]).buffer);
        c.push(0x44, ...b);
        return;
      }
      case 'block':
      case 'loop': {
        const label = typeof rest[0] === 'string' && rest[0].startsWith('$') ? rest[0].slice(1) : null;
        c.push(op === 'block' ? 0x02 : 0x03, 0x40);
        this.labels.push(label);
        this.body(rest.slice(label === null ? 0 : 1));
        this.labels.pop();
        c.push(0x0b);
        return;
      }
      case 'if': {
        // (if cond (then ...) (else ...))
        const [cond, thenNode, elseNode] = rest;
        this.expr(cond);
        c.push(0x04, 0x40);
        this.labels.push(null);
        if (!Array.isArray(thenNode) || thenNode[0] !== 'then') this.fail('if needs (then ...)', node);
        this.body(thenNode.slice(1));
        if (elseNode !== undefined) {
          if (!Array.isArray(elseNode) || elseNode[0] !== 'else') this.fail('expected (else ...)', node);
          c.push(0x05);
          this.body(elseNode.slice(1));
        }
        this.labels.pop();
        c.push(0x0b);
        return;
      }
      case 'br':
      case 'br_if':
        args(1);
        c.push(op === 'br' ? 0x0c : 0x0d, ...uleb(this.depth(rest[0], node)));
        return;
      case 'call': {
        const index = this.funcIndex.get(String(rest[0]).replace(/^\$/, ''));
        if (index === undefined) this.fail(`unknown function ${String(rest[0])}`, node);
        args(1);
        c.push(0x10, ...uleb(index));
        return;
      }
      case 'f32x4.extract_lane':
      case 'f32x4.replace_lane':
        args(1);
        c.push(0xfd, op === 'f32x4.extract_lane' ? 0x1f : 0x20, Number(rest[0]));
        return;
      case 'v128.const': {
        // (v128.const f32x4 a b c d) or (v128.const i32x4 a b c d)
        const lanes = rest.slice(1, 5).map(Number);
        const bytes =
          rest[0] === 'i32x4'
            ? new Uint8Array(new Int32Array(lanes).buffer)
            : new Uint8Array(new Float32Array(lanes).buffer);
        c.push(0xfd, 0x0c, ...bytes);
        return;
      }
      case 'memory.fill':
        args(0);
        c.push(0xfc, 0x0b, 0x00);
        return;
      case 'i8x16.shuffle':
        args(16);
        c.push(0xfd, 0x0d, ...rest.slice(0, 16).map(Number));
        return;
      default:
        break;
    }
    if (op in MEMORY) {
      const [opcode, align] = MEMORY[op];
      let offset = 0;
      let from = 0;
      if (typeof rest[0] === 'string' && rest[0].startsWith('offset=')) {
        offset = Number(rest[0].slice(7));
        from = 1;
      }
      args(from);
      c.push(...opcode, ...uleb(align), ...uleb(offset));
      return;
    }
    if (op in PLAIN) {
      args(0);
      c.push(PLAIN[op]);
      return;
    }
    if (op in SIMD) {
      args(0);
      c.push(0xfd, ...uleb(SIMD[op]));
      return;
    }
    this.fail(`unknown instruction ${op}`, node);
  }
}

/** Assembles `funcs` into a module importing env.memory and exporting every function by name. */
export function assemble(funcs: FuncSource[]): Uint8Array {
  const types: string[] = [];
  const typeBytes: number[][] = [];
  const typeOf = funcs.map((f) => {
    const bytes = [
      0x60,
      ...vector(f.params.map(([, t]) => [TYPE_CODE[t]])),
      ...(f.result ? [1, TYPE_CODE[f.result]] : [0]),
    ];
    const key = bytes.join(',');
    let i = types.indexOf(key);
    if (i < 0) {
      i = types.length;
      types.push(key);
      typeBytes.push(bytes);
    }
    return i;
  });
  const funcIndex = new Map(funcs.map((f, i) => [f.name, i]));
  const bodies = funcs.map((f) => {
    const localIndex = new Map<string, number>();
    [...f.params, ...f.locals].forEach(([name], i) => {
      if (localIndex.has(name)) throw new Error(`wat ${f.name}: local ${name} declared twice`);
      localIndex.set(name, i);
    });
    const emitter = new FunctionEmitter(f, localIndex, funcIndex);
    emitter.body(parse(f.body));
    const locals = vector(f.locals.map(([, t]) => [1, TYPE_CODE[t]]));
    const body = [...locals, ...emitter.code, 0x0b];
    return [...uleb(body.length), ...body];
  });
  const memoryImport = [...str('env'), ...str('memory'), 0x02, 0x00, 0x01];
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, vector(typeBytes)),
    ...section(2, vector([memoryImport])),
    ...section(3, vector(typeOf.map((t) => uleb(t)))),
    ...section(7, vector(funcs.map((f, i) => [...str(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vector(bodies)),
  ]);
}
