// WebAssembly SIMD kernels, written here as WebAssembly text (folded form) through a few string helpers and
// assembled by ./assemble.ts into a module that imports its memory: on the wasm backend it is tfjs-wasm's own
// heap, so the kernels read and write tensors in place. All pointers are byte offsets into that memory; all
// tensors are float32, row-major. Vector loops take 4 floats at a time; a scalar tail runs the same code on
// lane 0. They do the fused work around the matrix products (which stay on XNNPACK), see ../kernels.ts.
import { assemble, type FuncSource, type ValueType } from './assemble.js';

// ---- helpers that write WAT ------------------------------------------------------------------------------------
const get = (x: string) => `(local.get $${x})`;
const set = (x: string, e: string) => `(local.set $${x} ${e})`;
const int = (n: number) => `(i32.const ${n})`;
const float = (n: number) => `(f32.const ${n})`;
const add = (...xs: string[]) => xs.reduce((a, b) => `(i32.add ${a} ${b})`);
const mul = (a: string, b: string) => `(i32.mul ${a} ${b})`;
const sub = (a: string, b: string) => `(i32.sub ${a} ${b})`;
/** Byte address of float number `index` of the array at byte pointer `ptr`. */
const at = (ptr: string, index: string) => `(i32.add ${get(ptr)} (i32.shl ${index} (i32.const 2)))`;
const loadf = (ptr: string, index: string) => `(f32.load ${at(ptr, index)})`;
const storef = (ptr: string, index: string, e: string) => `(f32.store ${at(ptr, index)} ${e})`;
const splat = (e: string) => `(f32x4.splat ${e})`;
const vec = (n: number) => splat(float(n));
const vload = (ptr: string, index: string) => `(v128.load ${at(ptr, index)})`;
const vstore = (ptr: string, index: string, e: string) => `(v128.store ${at(ptr, index)} ${e})`;
const vadd = (...xs: string[]) => xs.reduce((a, b) => `(f32x4.add ${a} ${b})`);
const vsub = (a: string, b: string) => `(f32x4.sub ${a} ${b})`;
const vmul = (...xs: string[]) => xs.reduce((a, b) => `(f32x4.mul ${a} ${b})`);
const vdiv = (a: string, b: string) => `(f32x4.div ${a} ${b})`;
const ONE = vec(1);
/** Sum of the four lanes of v128 local `v`. */
const hsum = (v: string) =>
  `(f32.add (f32.add (f32x4.extract_lane 0 ${get(v)}) (f32x4.extract_lane 1 ${get(v)})) (f32.add (f32x4.extract_lane 2
    ${get(v)}) (f32x4.extract_lane 3 ${get(v)})))`;

/** for (v = from; v < to; v += step) body; `to` is evaluated every iteration. Loop variables name the labels. */
function loop(v: string, from: string, to: string, step: number, body: string): string {
  return `${set(v, from)}
  (block $${v}_end (loop $${v}_next
    (br_if $${v}_end (i32.ge_s ${get(v)} ${to}))
    ${body}
    ${set(v, add(get(v), int(step)))}
    (br $${v}_next)))`;
}

/** Reads and writes of an elementwise body: 4 floats, or (in the tail) 1 float in lane 0, other lanes 0. */
interface Access {
  load(ptr: string, index: string): string;
  store(ptr: string, index: string, value: string): string;
  /** At a byte address. */
  loadAt(addr: string): string;
  storeAt(addr: string, value: string): string;
}
const VECTOR: Access = {
  load: vload,
  store: vstore,
  loadAt: (addr) => `(v128.load ${addr})`,
  storeAt: (addr, v) => `(v128.store ${addr} ${v})`,
};
const SCALAR: Access = {
  load: (ptr, index) => `(f32x4.replace_lane 0 ${vec(0)} ${loadf(ptr, index)})`,
  store: (ptr, index, value) => storef(ptr, index, `(f32x4.extract_lane 0 ${value})`),
  loadAt: (addr) => `(f32x4.replace_lane 0 ${vec(0)} (f32.load ${addr}))`,
  storeAt: (addr, v) => `(f32.store ${addr} (f32x4.extract_lane 0 ${v}))`,
};

/** for (v = from; v < to; v++) body, 4 at a time and then one at a time. */
function elementwise(v: string, from: string, to: string, body: (a: Access) => string): string {
  return `${set(v, from)}
  (block $${v}_vend (loop $${v}_vnext
    (br_if $${v}_vend (i32.gt_s ${add(get(v), int(4))} ${to}))
    ${body(VECTOR)}
    ${set(v, add(get(v), int(4)))}
    (br $${v}_vnext)))
  (block $${v}_send (loop $${v}_snext
    (br_if $${v}_send (i32.ge_s ${get(v)} ${to}))
    ${body(SCALAR)}
    ${set(v, add(get(v), int(1)))}
    (br $${v}_snext)))`;
}

/**
 * exp of v128 expression `x` into local `out` (Cephes' expf: 2^n p(r), within ~2 ulp), through v128 locals `t`, `u`.
 * The argument is clamped to [-87.3, 88.3]: exp(-87.3) ~ 1.2e-38 stands in for anything smaller. Only
 * instructions that map to one x64 instruction each: pmin/pmax (min/max spend ~6 on NaN rules), and 2^n built
 * from n + 1.5 * 2^23, whose low mantissa bits hold n (trunc_sat spends ~8).
 */
function exp4(out: string, x: string, t: string, u: string): string {
  const p = [1.98756915e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];
  const poly = p.slice(1).reduce((acc, c) => vadd(vmul(acc, get(t)), vec(c)), vec(p[0]));
  return `${set(t, `(f32x4.pmax (f32x4.pmin ${x} ${vec(88.3)}) ${vec(-87.3)})`)}
  ${set(u, `(f32x4.nearest ${vmul(get(t), vec(Math.LOG2E))})`)}
  ${set(t, vsub(vsub(get(t), vmul(get(u), vec(0.693359375))), vmul(get(u), vec(-2.1219444e-4))))}
  ${set(out, vadd(vmul(poly, get(t), get(t)), get(t), ONE))}
  ${set(
    out,
    vmul(
      get(out),
      `(i32x4.shl (i32x4.sub ${vadd(
        get(u),
        vec(12582912),
      )} (i32x4.splat (i32.const ${0x4b400000 - 127}))) (i32.const 23))`,
    ),
  )}`;
}
/** out = sigmoid(x) = 1 / (1 + exp(-x)). */
const sigmoid4 = (out: string, x: string, t: string, u: string) => `${exp4(out, `(f32x4.neg ${x})`, t, u)}
  ${set(out, vdiv(ONE, vadd(ONE, get(out))))}`;
/**
 * out = tanh(x): 2 sigmoid(2x) - 1, and for |x| < 0.2 (where that loses relative precision) the odd Taylor
 * polynomial x (1 - x^2/3 + 2x^4/15 - 17x^6/315). `x` is evaluated more than once, after `out`, `t` and `u`
 * are written: pass a load or another local.
 */
const tanh4 = (out: string, x: string, t: string, u: string) => `${sigmoid4(out, vmul(x, vec(2)), t, u)}
  ${set(out, vsub(vmul(get(out), vec(2)), ONE))}
  ${set(u, vmul(x, x))}
  ${set(
    t,
    vmul(x, vadd(ONE, vmul(get(u), vadd(vec(-1 / 3), vmul(get(u), vadd(vec(2 / 15), vmul(get(u), vec(-17 / 315)))))))),
  )}
  ${set(out, `(v128.bitselect ${get(t)} ${get(out)} (f32x4.lt (f32x4.abs ${x}) ${vec(0.2)}))`)}`;

/**
 * A kernel's source: its export name, parameter list and result type are kept as literal types, from which
 * `SimdExports` (below) computes the TypeScript signature of every export.
 */
interface KernelSource<N extends string, P extends string, R extends ValueType | undefined> extends FuncSource {
  name: N;
  /** The parameters as declared: space-separated `name:type` (type i32 when omitted). */
  signature: P;
  result: R;
}

/** A function from space-separated `name:type` lists (type i32 when omitted). */
function fn<N extends string, P extends string, R extends ValueType | undefined = undefined>(
  name: N,
  params: P,
  locals: string,
  body: string,
  result?: R,
): KernelSource<N, P, R> {
  const decl = (s: string) =>
    s
      .split(/\s+/)
      .filter(Boolean)
      .map((p) => {
        const [n, t] = p.split(':');
        return [n, (t ?? 'i32') as ValueType] as [string, ValueType];
      });
  return { name, signature: params, params: decl(params), locals: decl(locals), body, result: result as R };
}

/** f32 lanes as i8x16.shuffle byte lanes (0-3: first operand, 4-7: second). */
const lanes = (ls: number[]) => ls.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]).join(' ');
const shuffle = (ls: number[], a: string, b: string) => `(i8x16.shuffle ${lanes(ls)} ${get(a)} ${get(b)})`;
const zeroFloats = (ptr: string, count: string) =>
  `(memory.fill ${get(ptr)} (i32.const 0) (i32.shl ${count} (i32.const 2)))`;

// ---- the kernels ------------------------------------------------------------------------------------------------

/**
 * y[n, m] = x[m, n]^T in 4 x 4 blocks (shuffles), 8 columns of x at a time down all its rows: the 8 rows of y
 * being written stay in L1 (walking more of them at once, 6 KB apart for m = 1536, thrashes its sets).
 */
const transpose = fn(
  'transpose',
  'x y m n',
  'i j jb jend m4 n4 r0:v128 r1:v128 r2:v128 r3:v128 t0:v128 t1:v128 t2:v128 t3:v128',
  `${set('m4', `(i32.and ${get('m')} (i32.const -4))`)}
  ${set('n4', `(i32.and ${get('n')} (i32.const -4))`)}
  ${loop(
    'jb',
    int(0),
    get('n4'),
    8,
    `
    ${set('jend', `(select ${get('n4')} ${add(get('jb'), int(8))} (i32.lt_s ${get('n4')} ${add(get('jb'), int(8))}))`)}
    ${loop(
      'i',
      int(0),
      get('m4'),
      4,
      loop(
        'j',
        get('jb'),
        get('jend'),
        4,
        `
      ${[0, 1, 2, 3]
        .map((r) => set(`r${r}`, vload('x', add(mul(add(get('i'), int(r)), get('n')), get('j')))))
        .join('\n')}
      ${set('t0', shuffle([0, 4, 1, 5], 'r0', 'r1'))}
      ${set('t1', shuffle([2, 6, 3, 7], 'r0', 'r1'))}
      ${set('t2', shuffle([0, 4, 1, 5], 'r2', 'r3'))}
      ${set('t3', shuffle([2, 6, 3, 7], 'r2', 'r3'))}
      ${vstore('y', add(mul(get('j'), get('m')), get('i')), shuffle([0, 1, 4, 5], 't0', 't2'))}
      ${vstore('y', add(mul(add(get('j'), int(1)), get('m')), get('i')), shuffle([2, 3, 6, 7], 't0', 't2'))}
      ${vstore('y', add(mul(add(get('j'), int(2)), get('m')), get('i')), shuffle([0, 1, 4, 5], 't1', 't3'))}
      ${vstore('y', add(mul(add(get('j'), int(3)), get('m')), get('i')), shuffle([2, 3, 6, 7], 't1', 't3'))}`,
      ),
    )}`,
  )}
  ;; columns from n4 in every row, then rows from m4 in the columns before n4
  ${loop(
    'i',
    int(0),
    get('m'),
    1,
    loop(
      'j',
      get('n4'),
      get('n'),
      1,
      storef('y', add(mul(get('j'), get('m')), get('i')), loadf('x', add(mul(get('i'), get('n')), get('j')))),
    ),
  )}
  ${loop(
    'i',
    get('m4'),
    get('m'),
    1,
    loop(
      'j',
      int(0),
      get('n4'),
      1,
      storef('y', add(mul(get('j'), get('m')), get('i')), loadf('x', add(mul(get('i'), get('n')), get('j')))),
    ),
  )}`,
);

/** y[n] = column sums of x[m, n]. */
const colsum = fn(
  'colsum',
  'x y m n',
  'i j row',
  `${zeroFloats('y', get('n'))}
  ${loop(
    'i',
    int(0),
    get('m'),
    1,
    `${set('row', mul(get('i'), get('n')))}
    ${elementwise('j', int(0), get('n'), (a) =>
      a.store('y', get('j'), vadd(a.load('y', get('j')), a.load('x', add(get('row'), get('j'))))),
    )}`,
  )}`,
);

/** Through a ReLU with output y: dz = dy where y > 0, else 0; db = column sums of dz. */
const relugrad = fn(
  'relugrad',
  'dy y dz db m n',
  'i j row g:v128',
  `${zeroFloats('db', get('n'))}
  ${loop(
    'i',
    int(0),
    get('m'),
    1,
    `${set('row', mul(get('i'), get('n')))}
    ${elementwise(
      'j',
      int(0),
      get('n'),
      (a) => `
      ${set(
        'g',
        `(v128.and ${a.load('dy', add(get('row'), get('j')))} (f32x4.gt ${a.load(
          'y',
          add(get('row'), get('j')),
        )} ${vec(0)}))`,
      )}
      ${a.store('dz', add(get('row'), get('j')), get('g'))}
      ${a.store('db', get('j'), vadd(a.load('db', get('j')), get('g')))}`,
    )}`,
  )}`,
);

/** LayerNorm over the rows of x[m, n]: y = (x - mean) rstd g + b, with mean[m] and rstd[m] kept for the gradient. */
const layernorm = fn(
  'layernorm',
  'x g b y mean rstd m n eps:f32',
  'i j row acc:v128 e:v128 mu:f32 r:f32 vmu:v128 vr:v128',
  loop(
    'i',
    int(0),
    get('m'),
    1,
    `${set('row', mul(get('i'), get('n')))}
    ${set('acc', vec(0))}
    ${elementwise('j', int(0), get('n'), (a) => set('acc', vadd(get('acc'), a.load('x', add(get('row'), get('j'))))))}
    ${set('mu', `(f32.div ${hsum('acc')} (f32.convert_i32_s ${get('n')}))`)}
    ${set('vmu', splat(get('mu')))}
    ${set('acc', vec(0))}
    ${elementwise(
      'j',
      int(0),
      get('n'),
      (a) => `
      ${set(
        'e',
        a === VECTOR
          ? vsub(a.load('x', add(get('row'), get('j'))), get('vmu'))
          : `(f32x4.replace_lane 0 ${vec(0)} (f32.sub ${loadf('x', add(get('row'), get('j')))} ${get('mu')}))`,
      )}
      ${set('acc', vadd(get('acc'), vmul(get('e'), get('e'))))}`,
    )}
    ${set(
      'r',
      `(f32.div (f32.const 1) (f32.sqrt (f32.add (f32.div ${hsum('acc')} (f32.convert_i32_s ${get('n')}))
      ${get('eps')})))`,
    )}
    ${storef('mean', get('i'), get('mu'))}
    ${storef('rstd', get('i'), get('r'))}
    ${set('vr', splat(get('r')))}
    ${elementwise('j', int(0), get('n'), (a) =>
      a.store(
        'y',
        add(get('row'), get('j')),
        vadd(
          vmul(vsub(a.load('x', add(get('row'), get('j'))), get('vmu')), get('vr'), a.load('g', get('j'))),
          a.load('b', get('j')),
        ),
      ),
    )}`,
  ),
);

/** LayerNorm's gradient: dx = rstd (dy g - mean(dy g) - xhat mean(dy g xhat)); dg = sum dy xhat; db = sum dy. */
const layernormGrad = fn(
  'layernorm_grad',
  'dy x g mean rstd dx dg db m n',
  'i j row vmu:v128 vr:v128 xh:v128 d:v128 dg1:v128 sd:v128 sdx:v128 md:v128 mdx:v128 inv:f32',
  `${zeroFloats('dg', get('n'))}
  ${zeroFloats('db', get('n'))}
  ${set('inv', `(f32.div (f32.const 1) (f32.convert_i32_s ${get('n')}))`)}
  ${loop(
    'i',
    int(0),
    get('m'),
    1,
    `${set('row', mul(get('i'), get('n')))}
    ${set('vmu', splat(loadf('mean', get('i'))))}
    ${set('vr', splat(loadf('rstd', get('i'))))}
    ${set('sd', vec(0))}
    ${set('sdx', vec(0))}
    ${elementwise(
      'j',
      int(0),
      get('n'),
      (a) => `
      ${set('d', a.load('dy', add(get('row'), get('j'))))}
      ${set('xh', vmul(vsub(a.load('x', add(get('row'), get('j'))), get('vmu')), get('vr')))}
      ${
        a === SCALAR
          ? set(
              'xh',
              `(f32x4.replace_lane 1 (f32x4.replace_lane 2 (f32x4.replace_lane 3 ${get('xh')} (f32.const 0))
                (f32.const 0))
          (f32.const 0))`,
            )
          : ''
      }
      ${set('dg1', vmul(get('d'), a.load('g', get('j'))))}
      ${set('sd', vadd(get('sd'), get('dg1')))}
      ${set('sdx', vadd(get('sdx'), vmul(get('dg1'), get('xh'))))}
      ${a.store('dg', get('j'), vadd(a.load('dg', get('j')), vmul(get('d'), get('xh'))))}
      ${a.store('db', get('j'), vadd(a.load('db', get('j')), get('d')))}`,
    )}
    ${set('md', splat(`(f32.mul ${hsum('sd')} ${get('inv')})`))}
    ${set('mdx', splat(`(f32.mul ${hsum('sdx')} ${get('inv')})`))}
    ${elementwise(
      'j',
      int(0),
      get('n'),
      (a) => `
      ${set('xh', vmul(vsub(a.load('x', add(get('row'), get('j'))), get('vmu')), get('vr')))}
      ${a.store(
        'dx',
        add(get('row'), get('j')),
        vmul(
          get('vr'),
          vsub(
            vsub(vmul(a.load('dy', add(get('row'), get('j'))), a.load('g', get('j'))), get('md')),
            vmul(get('xh'), get('mdx')),
          ),
        ),
      )}`,
    )}`,
  )}`,
);

// Causal attention on qkv [batch * T, 3d] (columns q | k | v, head h at h * hs within each; hs a multiple of 4).
// p is [batch, heads, T, T4] with rows padded to T4 = T rounded up to 4, and 0 above the diagonal. Addresses are
// byte pointers stepped through the rows (row stride rs = 12 d bytes); scores of 4 keys at a time are summed
// across lanes by one 4 x 4 shuffle-transpose instead of 4 horizontal sums.

/** [sum a0, sum a1, sum a2, sum a3] of v128 locals a0..a3, through locals x and y. */
const reduce4 = (a: string[], x: string, y: string) => `
  ${set(x, vadd(shuffle([0, 4, 1, 5], a[0], a[1]), shuffle([2, 6, 3, 7], a[0], a[1])))}
  ${set(y, vadd(shuffle([0, 4, 1, 5], a[2], a[3]), shuffle([2, 6, 3, 7], a[2], a[3])))}
  ${set(a[0], vadd(shuffle([0, 1, 4, 5], x, y), shuffle([2, 3, 6, 7], x, y)))}`;
const bytes = (e: string) => `(i32.shl ${e} (i32.const 2))`;

/** Per (b, h): byte pointers to q, k, v of row 0 and to the row block of p; hs, T4, rs. */
const attentionSetup = `
  ${set('hs', `(i32.div_s ${get('d')} ${get('heads')})`)}
  ${set('T4', `(i32.and (i32.add ${get('T')} (i32.const 3)) (i32.const -4))`)}
  ${set('rs', mul(get('d'), int(12)))}
  ${set('hb', bytes(get('hs')))}`;
const attentionBase = `
  ${set('qb', add(get('qkv'), mul(add(mul(get('b'), get('T')), int(0)), get('rs')), bytes(mul(get('h'), get('hs')))))}
  ${set('kb', add(get('qb'), bytes(get('d'))))}
  ${set('vb', add(get('kb'), bytes(get('d'))))}
  ${set('pb', add(get('p'), bytes(mul(mul(add(mul(get('b'), get('heads')), get('h')), get('T')), get('T4')))))}`;

/** s_j = scale q . k_j into the row pr of p for j <= i, 4 keys at a time; max into local max. */
const scores = (q: string, keys: string) => `
  ${set('vmax', vec(-3.4e38))}
  ${set('j', int(0))}
  ${set('kp', get(keys))}
  (block $s4_end (loop $s4_next
    (br_if $s4_end (i32.gt_s ${add(get('j'), int(4))} ${add(get('i'), int(1))}))
    ${[0, 1, 2, 3].map((r) => set(`a${r}`, vec(0))).join('\n')}
    ${loop(
      'c',
      int(0),
      get('hb'),
      16,
      `
      ${set('qv', `(v128.load ${add(get(q), get('c'))})`)}
      ${[0, 1, 2, 3]
        .map((r) =>
          set(
            `a${r}`,
            vadd(get(`a${r}`), vmul(get('qv'), `(v128.load ${add(get('kp'), mul(get('rs'), int(r)), get('c'))})`)),
          ),
        )
        .join('\n')}`,
    )}
    ${reduce4(['a0', 'a1', 'a2', 'a3'], 'rx', 'ry')}
    ${set('a0', vmul(get('a0'), splat(get('scale'))))}
    (v128.store ${add(get('pr'), bytes(get('j')))} ${get('a0')})
    ${set('vmax', `(f32x4.max ${get('vmax')} ${get('a0')})`)}
    ${set('j', add(get('j'), int(4)))}
    ${set('kp', add(get('kp'), mul(get('rs'), int(4))))}
    (br $s4_next)))
  ${set(
    'max',
    `(f32.max (f32.max (f32x4.extract_lane 0 ${get('vmax')}) (f32x4.extract_lane 1 ${get('vmax')})) (f32.max
      (f32x4.extract_lane 2 ${get('vmax')}) (f32x4.extract_lane 3 ${get('vmax')})))`,
  )}
  (block $s1_end (loop $s1_next
    (br_if $s1_end (i32.gt_s ${get('j')} ${get('i')}))
    ${set('a0', vec(0))}
    ${loop(
      'c',
      int(0),
      get('hb'),
      16,
      set(
        'a0',
        vadd(get('a0'), vmul(`(v128.load ${add(get(q), get('c'))})`, `(v128.load ${add(get('kp'), get('c'))})`)),
      ),
    )}
    ${set('s', `(f32.mul ${hsum('a0')} ${get('scale')})`)}
    (f32.store ${add(get('pr'), bytes(get('j')))} ${get('s')})
    ${set('max', `(f32.max ${get('max')} ${get('s')})`)}
    ${set('j', add(get('j'), int(1)))}
    ${set('kp', add(get('kp'), get('rs')))}
    (br $s1_next)))`;

const attention = fn(
  'attention',
  'qkv y p batch T heads d scale:f32',
  'b h i j c hs hb T4 rs qb kb vb pb qp kp vp pr yp nj max:f32 sum:f32 s:f32 a0:v128 a1:v128 a2:v128 a3:v128 qv:v128 ' +
    'rx:v128 ry:v128 vmax:v128 e:v128 t:v128 u:v128',
  `${attentionSetup}
  ${loop(
    'b',
    int(0),
    get('batch'),
    1,
    loop(
      'h',
      int(0),
      get('heads'),
      1,
      `${attentionBase}
    ${loop(
      'i',
      int(0),
      get('T'),
      1,
      `
      ${set('qp', add(get('qb'), mul(get('i'), get('rs'))))}
      ${set('pr', add(get('pb'), bytes(mul(get('i'), get('T4')))))}
      ${scores('qp', 'kb')}
      ;; softmax over the first nj = i + 1 rounded up to 4 entries, those past i set to -1e30 first (exp gives
      ;; ~1e-38 there, zeroed after); the rest of the row (nj..T4) is 0
      ${set('nj', `(i32.and (i32.add ${get('i')} (i32.const 4)) (i32.const -4))`)}
      ${loop(
        'j',
        add(get('i'), int(1)),
        get('nj'),
        1,
        `(f32.store ${add(get('pr'), bytes(get('j')))} (f32.const -1e30))`,
      )}
      ${set('sum', float(0))}
      ${loop(
        'j',
        int(0),
        bytes(get('nj')),
        16,
        `
        ${exp4('e', vsub(`(v128.load ${add(get('pr'), get('j'))})`, splat(get('max'))), 't', 'u')}
        (v128.store ${add(get('pr'), get('j'))} ${get('e')})
        ${set('sum', `(f32.add ${get('sum')} ${hsum('e')})`)}`,
      )}
      ${set('e', splat(`(f32.div (f32.const 1) ${get('sum')})`))}
      ${loop(
        'j',
        int(0),
        bytes(get('nj')),
        16,
        `(v128.store ${add(get('pr'), get('j'))} ${vmul(`(v128.load ${add(get('pr'), get('j'))})`, get('e'))})`,
      )}
      ${loop('j', add(get('i'), int(1)), get('nj'), 1, `(f32.store ${add(get('pr'), bytes(get('j')))} (f32.const 0))`)}
      ${loop('j', bytes(get('nj')), bytes(get('T4')), 16, `(v128.store ${add(get('pr'), get('j'))} ${vec(0)})`)}
      ;; y_i = sum_j p_ij v_j: 16 columns at a time (4 accumulators), then 4
      ${set(
        'yp',
        add(get('y'), bytes(add(mul(add(mul(get('b'), get('T')), get('i')), get('d')), mul(get('h'), get('hs'))))),
      )}
      ${set('c', int(0))}
      (block $y16_end (loop $y16_next
        (br_if $y16_end (i32.gt_s ${add(get('c'), int(64))} ${get('hb')}))
        ${[0, 1, 2, 3].map((r) => set(`a${r}`, vec(0))).join('\n')}
        ${set('vp', add(get('vb'), get('c')))}
        ${loop(
          'j',
          int(0),
          add(get('i'), int(1)),
          1,
          `
          ${set('qv', `(v128.load32_splat ${add(get('pr'), bytes(get('j')))})`)}
          ${[0, 1, 2, 3]
            .map((r) => set(`a${r}`, vadd(get(`a${r}`), vmul(get('qv'), `(v128.load offset=${16 * r} ${get('vp')})`))))
            .join('\n')}
          ${set('vp', add(get('vp'), get('rs')))}`,
        )}
        ${[0, 1, 2, 3]
          .map((r) => `(v128.store offset=${16 * r} ${add(get('yp'), get('c'))} ${get(`a${r}`)})`)
          .join('\n')}
        ${set('c', add(get('c'), int(64)))}
        (br $y16_next)))
      ${loop(
        'c',
        get('c'),
        get('hb'),
        16,
        `
        ${set('a0', vec(0))}
        ${set('vp', add(get('vb'), get('c')))}
        ${loop(
          'j',
          int(0),
          add(get('i'), int(1)),
          1,
          `
          ${set(
            'a0',
            vadd(get('a0'), vmul(`(v128.load32_splat ${add(get('pr'), bytes(get('j')))})`, `(v128.load ${get('vp')})`)),
          )}
          ${set('vp', add(get('vp'), get('rs')))}`,
        )}
        (v128.store ${add(get('yp'), get('c'))} ${get('a0')})`,
      )}`,
    )}`,
    ),
  )}`,
);

const attentionGrad = fn(
  'attention_grad',
  'dy qkv p dqkv tmp batch T heads d scale:f32',
  'b h i j c hs hb T4 rs qb kb vb pb qp kp vp pr gy dq max:f32 dot:f32 w:f32 s:f32 a0:v128 a1:v128 a2:v128 a3:v128 ' +
    'qv:v128 rx:v128 ry:v128 vmax:v128 vds:v128 vw:v128 q0:v128 q1:v128 q2:v128 q3:v128 g0:v128 g1:v128 g2:v128 ' +
    'g3:v128',
  `${attentionSetup}
  ${zeroFloats('dqkv', mul(mul(get('batch'), get('T')), mul(get('d'), int(3))))}
  ${loop(
    'b',
    int(0),
    get('batch'),
    1,
    loop(
      'h',
      int(0),
      get('heads'),
      1,
      `${attentionBase}
    ${loop(
      'i',
      int(0),
      get('T'),
      1,
      `
      ${set('qp', add(get('qb'), mul(get('i'), get('rs'))))}
      ${set('pr', add(get('pb'), bytes(mul(get('i'), get('T4')))))}
      ${set(
        'gy',
        add(get('dy'), bytes(add(mul(add(mul(get('b'), get('T')), get('i')), get('d')), mul(get('h'), get('hs'))))),
      )}
      ;; dP_ij = dy_i . v_j (the score loop with dy for q and v for k, into tmp; scale 1)
      ${set('w', get('scale'))}
      ${set('scale', float(1))}
      ${set('dq', get('pr'))}
      ${set('pr', get('tmp'))}
      ${scores('gy', 'vb')}
      ${set('pr', get('dq'))}
      ${set('scale', get('w'))}
      ${set('dot', float(0))}
      ${loop(
        'j',
        int(0),
        add(get('i'), int(1)),
        1,
        set(
          'dot',
          `(f32.add ${get('dot')} (f32.mul (f32.load ${add(get('pr'), bytes(get('j')))}) (f32.load ${add(
            get('tmp'),
            bytes(get('j')),
          )})))`,
        ),
      )}
      ;; dS_ij = P_ij (dP_ij - dot): dq_i += scale dS_ij k_j, dk_j += scale dS_ij q_i, dv_j += P_ij dy_i;
      ;; 16 columns at a time with q_i, dy_i and dq_i in registers, then 4 at a time
      ${set('dq', add(get('dqkv'), sub(get('qp'), get('qkv'))))}
      ${set('c', int(0))}
      (block $g16_end (loop $g16_next
        (br_if $g16_end (i32.gt_s ${add(get('c'), int(64))} ${get('hb')}))
        ${[0, 1, 2, 3]
          .map(
            (r) => `${set(`q${r}`, `(v128.load offset=${16 * r} ${add(get('qp'), get('c'))})`)}
          ${set(`g${r}`, `(v128.load offset=${16 * r} ${add(get('gy'), get('c'))})`)}
          ${set(`a${r}`, vec(0))}`,
          )
          .join('\n')}
        ${set('kp', add(get('kb'), get('c')))}
        ${loop(
          'j',
          int(0),
          add(get('i'), int(1)),
          1,
          `
          ${set('w', `(f32.load ${add(get('pr'), bytes(get('j')))})`)}
          ${set(
            'vds',
            splat(
              `(f32.mul (f32.mul ${get('w')} (f32.sub (f32.load ${add(
                get('tmp'),
                bytes(get('j')),
              )}) ${get('dot')})) ${get('scale')})`,
            ),
          )}
          ${set('vw', splat(get('w')))}
          ${set('vp', add(get('dqkv'), sub(get('kp'), get('qkv'))))}
          ${[0, 1, 2, 3]
            .map(
              (r) => `
            ${set(`a${r}`, vadd(get(`a${r}`), vmul(get('vds'), `(v128.load offset=${16 * r} ${get('kp')})`)))}
            (v128.store offset=${16 * r} ${get('vp')} ${vadd(
              `(v128.load offset=${16 * r} ${get('vp')})`,
              vmul(get('vds'), get(`q${r}`)),
            )})
            (v128.store offset=${16 * r} ${add(get('vp'), bytes(get('d')))} ${vadd(
              `(v128.load offset=${16 * r} ${add(get('vp'), bytes(get('d')))})`,
              vmul(get('vw'), get(`g${r}`)),
            )})`,
            )
            .join('\n')}
          ${set('kp', add(get('kp'), get('rs')))}`,
        )}
        ${[0, 1, 2, 3]
          .map(
            (r) =>
              `(v128.store offset=${16 * r} ${add(
                get('dq'),
                get('c'),
              )} ${vadd(`(v128.load offset=${16 * r} ${add(get('dq'), get('c'))})`, get(`a${r}`))})`,
          )
          .join('\n')}
        ${set('c', add(get('c'), int(64)))}
        (br $g16_next)))
      ${loop(
        'c',
        get('c'),
        get('hb'),
        16,
        `
        ${set('kp', add(get('kb'), get('c')))}
        ${loop(
          'j',
          int(0),
          add(get('i'), int(1)),
          1,
          `
          ${set('w', `(f32.load ${add(get('pr'), bytes(get('j')))})`)}
          ${set(
            'vds',
            splat(
              `(f32.mul (f32.mul ${get('w')} (f32.sub (f32.load ${add(
                get('tmp'),
                bytes(get('j')),
              )}) ${get('dot')})) ${get('scale')})`,
            ),
          )}
          ${set('vw', splat(get('w')))}
          ${set('vp', add(get('dqkv'), sub(get('kp'), get('qkv'))))}
          (v128.store ${add(get('dq'), get('c'))} ${vadd(
            `(v128.load ${add(get('dq'), get('c'))})`,
            vmul(get('vds'), `(v128.load ${get('kp')})`),
          )})
          (v128.store ${get('vp')} ${vadd(
            `(v128.load ${get('vp')})`,
            vmul(get('vds'), `(v128.load ${add(get('qp'), get('c'))})`),
          )})
          (v128.store ${add(get('vp'), bytes(get('d')))} ${vadd(
            `(v128.load ${add(get('vp'), bytes(get('d')))})`,
            vmul(get('vw'), `(v128.load ${add(get('gy'), get('c'))})`),
          )})
          ${set('kp', add(get('kp'), get('rs')))}`,
        )}`,
      )}`,
    )}`,
    ),
  )}`,
);

/**
 * out[m, n] += A b[k, n] with A[i, p] = a[i rs + p cs]: rows of b scaled by A's entries (skipping zeros, as after a
 * ReLU) and added into out's row. rs = k, cs = 1 is a[m, k] b; rs = 1, cs = m' is a'[m', m]^T b (the gradient of
 * a product's right factor), one kernel for both. For host matrices (../hostProducts.ts).
 */
const gemmAcc = fn(
  'gemmAcc',
  'a b out m k n rs cs',
  'i p j orow brow s:f32 sv:v128',
  loop(
    'i',
    int(0),
    get('m'),
    1,
    `${set('orow', mul(get('i'), get('n')))}
    ${loop(
      'p',
      int(0),
      get('k'),
      1,
      `${set('s', loadf('a', add(mul(get('i'), get('rs')), mul(get('p'), get('cs')))))}
      (if (f32.ne ${get('s')} ${float(0)}) (then
        ${set('sv', splat(get('s')))}
        ${set('brow', mul(get('p'), get('n')))}
        ${elementwise('j', int(0), get('n'), (x) =>
          x.store(
            'out',
            add(get('orow'), get('j')),
            vadd(x.load('out', add(get('orow'), get('j'))), vmul(get('sv'), x.load('b', add(get('brow'), get('j'))))),
          ),
        )}))`,
    )}`,
  ),
);

/** out[m, k] += g[m, n] w[k, n]^T: dot products of g's rows with w's rows, 4 lanes at a time. */
const gemmTransBAcc = fn(
  'gemmTransBAcc',
  'g w out m n k',
  'i p j o grow wrow acc:v128',
  loop(
    'i',
    int(0),
    get('m'),
    1,
    `${set('grow', mul(get('i'), get('n')))}
    ${loop(
      'p',
      int(0),
      get('k'),
      1,
      `${set('wrow', mul(get('p'), get('n')))}
      ${set('acc', vec(0))}
      ${elementwise('j', int(0), get('n'), (x) =>
        set(
          'acc',
          vadd(get('acc'), vmul(x.load('g', add(get('grow'), get('j'))), x.load('w', add(get('wrow'), get('j'))))),
        ),
      )}
      ${set('o', add(mul(get('i'), get('k')), get('p')))}
      ${storef('out', get('o'), `(f32.add ${loadf('out', get('o'))} ${hsum('acc')})`)}`,
    )}`,
  ),
);

/**
 * Sum of squares of x[len]: float32 lanes over blocks of 1024 floats, the blocks summed in float64 (38M-element sums
 * drift in float32).
 */
const sumsq = fn(
  'sumsq',
  'x len',
  'i end acc:v128 total:f64',
  `${set('total', '(f64.const 0)')}
  ${loop(
    'end',
    int(0),
    get('len'),
    1024,
    `
    ${set('acc', vec(0))}
    ${elementwise(
      'i',
      get('end'),
      `(select ${get('len')} ${add(get('end'), int(1024))} (i32.lt_s ${get('len')} ${add(get('end'), int(1024))}))`,
      (a) => set('acc', vadd(get('acc'), vmul(a.load('x', get('i')), a.load('x', get('i'))))),
    )}
    ${set('total', `(f64.add ${get('total')} (f64.promote_f32 ${hsum('acc')}))`)}`,
  )}
  ${get('total')}`,
  'f64',
);

/**
 * One Adam update (see ../optimizer.ts): g' = scale g; m' = b1 m + (1-b1) g'; v' = b2 v + (1-b2) g'^2; p' = p - step m'
 * / (sqrt(v' / c2) + eps).
 */
const adam = fn(
  'adam',
  'p m v g p1 m1 v1 len scale:f32 beta1:f32 beta2:f32 step:f32 c2:f32 eps:f32',
  'i gi:v128 mi:v128 vi:v128',
  elementwise(
    'i',
    int(0),
    get('len'),
    (a) => `
    ${set('gi', vmul(a.load('g', get('i')), splat(get('scale'))))}
    ${set(
      'mi',
      vadd(
        vmul(a.load('m', get('i')), splat(get('beta1'))),
        vmul(get('gi'), splat(`(f32.sub (f32.const 1) ${get('beta1')})`)),
      ),
    )}
    ${set(
      'vi',
      vadd(
        vmul(a.load('v', get('i')), splat(get('beta2'))),
        vmul(vmul(get('gi'), get('gi')), splat(`(f32.sub (f32.const 1) ${get('beta2')})`)),
      ),
    )}
    ${a.store('m1', get('i'), get('mi'))}
    ${a.store('v1', get('i'), get('vi'))}
    ${a.store(
      'p1',
      get('i'),
      vsub(
        a.load('p', get('i')),
        vdiv(
          vmul(get('mi'), splat(get('step'))),
          vadd(`(f32x4.sqrt ${vdiv(get('vi'), splat(get('c2')))})`, splat(get('eps'))),
        ),
      ),
    )}`,
  ),
);

// The LSTM cell kernels work on either layout of ../lstm.ts: feature-major (tensors [features, columns (t, n)])
// or batch-major (tensors [rows (t, n), features]). They loop over o (outer) and i (inner, contiguous, 4 at a
// time): o = unit k, i = sequence n when feature-major; o = n, i = k when batch-major. The caller passes the
// strides: element (gate g, o, i) of xw is at float xb + g xg + o xs + i (xb: the step's first column or row),
// of hw, gates and dz at g gg + o gs + i, of h, c and their gradients at o hs + i, of dy at yb + o ys + i.

/**
 * One LSTM step: gate pre-activations = the step's part of xw (the input's projection of all steps, bias
 * included) + hw (W_h applied to h_{t-1}); gates i, f, g, o. From c0: h, c and the activated gates.
 */
const lstmCell = fn(
  'lstm_cell',
  'xw hw c0 h c gates O I xb xg xs gg gs hs',
  'o i ig:v128 fg:v128 gg4:v128 og:v128 pre:v128 cn:v128 tc:v128 s:v128 u:v128',
  loop(
    'o',
    int(0),
    get('O'),
    1,
    elementwise('i', int(0), get('I'), (a) => {
      const gx = (gate: number) => add(get('xb'), mul(get('xg'), int(gate)), mul(get('o'), get('xs')), get('i'));
      const gh = (gate: number) => add(mul(get('gg'), int(gate)), mul(get('o'), get('gs')), get('i'));
      const pre = (gate: number) => vadd(a.load('xw', gx(gate)), a.load('hw', gh(gate)));
      const hk = add(mul(get('o'), get('hs')), get('i'));
      return `
    ${sigmoid4('ig', pre(0), 's', 'u')}
    ${sigmoid4('fg', pre(1), 's', 'u')}
    ${set('pre', pre(2))}
    ${tanh4('gg4', get('pre'), 's', 'u')}
    ${sigmoid4('og', pre(3), 's', 'u')}
    ${set('cn', vadd(vmul(get('fg'), a.load('c0', hk)), vmul(get('ig'), get('gg4'))))}
    ${tanh4('tc', get('cn'), 's', 'u')}
    ${a.store('c', hk, get('cn'))}
    ${a.store('h', hk, vmul(get('og'), get('tc')))}
    ${['ig', 'fg', 'gg4', 'og'].map((g, gate) => a.store('gates', gh(gate), get(g))).join('\n')}`;
    }),
  ),
);

/**
 * One LSTM step backwards: dh = the step's part of dy + dhNext; with dcNext, the step's gates, c and cPrev:
 * dcPrev and the pre-activations' gradient dz.
 */
const lstmCellGrad = fn(
  'lstm_cell_grad',
  'dy dhNext dcNext gates c cPrev dcPrev dz O I yb ys gg gs hs',
  'o i dh:v128 ig:v128 fg:v128 gg4:v128 og:v128 tc:v128 dc:v128 s:v128 u:v128',
  loop(
    'o',
    int(0),
    get('O'),
    1,
    elementwise('i', int(0), get('I'), (a) => {
      const gh = (gate: number) => add(mul(get('gg'), int(gate)), mul(get('o'), get('gs')), get('i'));
      const hk = add(mul(get('o'), get('hs')), get('i'));
      return `
    ${set('dh', vadd(a.load('dy', add(get('yb'), mul(get('o'), get('ys')), get('i'))), a.load('dhNext', hk)))}
    ${set('ig', a.load('gates', gh(0)))}
    ${set('fg', a.load('gates', gh(1)))}
    ${set('gg4', a.load('gates', gh(2)))}
    ${set('og', a.load('gates', gh(3)))}
    ${tanh4('tc', a.load('c', hk), 's', 'u')}
    ${set('dc', vadd(a.load('dcNext', hk), vmul(get('dh'), get('og'), vsub(ONE, vmul(get('tc'), get('tc'))))))}
    ${a.store('dz', gh(0), vmul(get('dc'), get('gg4'), get('ig'), vsub(ONE, get('ig'))))}
    ${a.store('dz', gh(1), vmul(get('dc'), a.load('cPrev', hk), get('fg'), vsub(ONE, get('fg'))))}
    ${a.store('dz', gh(2), vmul(get('dc'), get('ig'), vsub(ONE, vmul(get('gg4'), get('gg4')))))}
    ${a.store('dz', gh(3), vmul(get('dh'), get('tc'), get('og'), vsub(ONE, get('og'))))}
    ${a.store('dcPrev', hk, vmul(get('dc'), get('fg')))}`;
    }),
  ),
);

// VSML (../vsml.ts): feature-major tensors [features, cells], cells ordered (n, a, b) for a layer with A inputs
// and B outputs, C = N A B cells. A cell's state is [2S, C]: h in rows 0..S-1, c in rows S..2S-1.

/** z[r, (n, a, b)] = zf[r, (n, a)] + zb[r, (n, b)]: the message part of the gate inputs, broadcast over the cells. */
const combine = fn(
  'combine',
  'zf zb z R N A B',
  'r n a b base zbase v:v128',
  loop(
    'r',
    int(0),
    get('R'),
    1,
    loop(
      'n',
      int(0),
      get('N'),
      1,
      loop(
        'a',
        int(0),
        get('A'),
        1,
        `
    ${set('v', splat(loadf('zf', add(mul(get('r'), mul(get('N'), get('A'))), mul(get('n'), get('A')), get('a')))))}
    ${set(
      'base',
      add(mul(get('r'), mul(mul(get('N'), get('A')), get('B'))), mul(add(mul(get('n'), get('A')), get('a')), get('B'))),
    )}
    ${set('zbase', add(mul(get('r'), mul(get('N'), get('B'))), mul(get('n'), get('B'))))}
    ${elementwise('b', int(0), get('B'), (x) =>
      x.store('z', add(get('base'), get('b')), vadd(get('v'), x.load('zb', add(get('zbase'), get('b'))))),
    )}`,
      ),
    ),
  ),
);

/** combine's gradient: dzf = sum over b of dz, dzb = sum over a of dz. */
const combineGrad = fn(
  'combine_grad',
  'dz dzf dzb R N A B',
  'r n a b base zbase acc:v128 d:v128',
  `${zeroFloats('dzb', mul(get('R'), mul(get('N'), get('B'))))}
  ${loop(
    'r',
    int(0),
    get('R'),
    1,
    loop(
      'n',
      int(0),
      get('N'),
      1,
      loop(
        'a',
        int(0),
        get('A'),
        1,
        `
    ${set(
      'base',
      add(mul(get('r'), mul(mul(get('N'), get('A')), get('B'))), mul(add(mul(get('n'), get('A')), get('a')), get('B'))),
    )}
    ${set('zbase', add(mul(get('r'), mul(get('N'), get('B'))), mul(get('n'), get('B'))))}
    ${set('acc', vec(0))}
    ${elementwise(
      'b',
      int(0),
      get('B'),
      (x) => `
      ${set('d', x.load('dz', add(get('base'), get('b'))))}
      ${set('acc', vadd(get('acc'), get('d')))}
      ${x.store('dzb', add(get('zbase'), get('b')), vadd(x.load('dzb', add(get('zbase'), get('b'))), get('d')))}`,
    )}
    ${storef('dzf', add(mul(get('r'), mul(get('N'), get('A'))), mul(get('n'), get('A')), get('a')), hsum('acc'))}`,
      ),
    ),
  )}`,
);

/** Mean of rows 0..rows-1 of x [*, C] over a (overA = 1: y [rows, N B]) or over b (overA = 0: y [rows, N A]). */
const cellMean = fn(
  'cellmean',
  'x y rows N A B overA',
  's n a b base acc:v128 inv:f32',
  loop(
    's',
    int(0),
    get('rows'),
    1,
    loop(
      'n',
      int(0),
      get('N'),
      1,
      `
    (if ${get('overA')} (then
      ${set('inv', `(f32.div (f32.const 1) (f32.convert_i32_s ${get('A')}))`)}
      ${elementwise(
        'b',
        int(0),
        get('B'),
        (x) => `
        ${set('acc', vec(0))}
        ${loop(
          'a',
          int(0),
          get('A'),
          1,
          set(
            'acc',
            vadd(
              get('acc'),
              x.load(
                'x',
                add(
                  mul(get('s'), mul(mul(get('N'), get('A')), get('B'))),
                  mul(add(mul(get('n'), get('A')), get('a')), get('B')),
                  get('b'),
                ),
              ),
            ),
          ),
        )}
        ${x.store(
          'y',
          add(mul(get('s'), mul(get('N'), get('B'))), mul(get('n'), get('B')), get('b')),
          vmul(get('acc'), splat(get('inv'))),
        )}`,
      )})
    (else
      ${set('inv', `(f32.div (f32.const 1) (f32.convert_i32_s ${get('B')}))`)}
      ${loop(
        'a',
        int(0),
        get('A'),
        1,
        `
        ${set(
          'base',
          add(
            mul(get('s'), mul(mul(get('N'), get('A')), get('B'))),
            mul(add(mul(get('n'), get('A')), get('a')), get('B')),
          ),
        )}
        ${set('acc', vec(0))}
        ${elementwise('b', int(0), get('B'), (x) =>
          set('acc', vadd(get('acc'), x.load('x', add(get('base'), get('b'))))),
        )}
        ${storef(
          'y',
          add(mul(get('s'), mul(get('N'), get('A'))), mul(get('n'), get('A')), get('a')),
          `(f32.mul ${hsum('acc')} ${get('inv')})`,
        )}`,
      )}))`,
    ),
  ),
);

/** cellmean's gradient: dy spread evenly over the cells of rows 0..rows-1 of dx [total, C]; the other rows 0. */
const cellSpread = fn(
  'cellspread',
  'dy dx rows total N A B overA',
  's n a b base v:v128',
  `${zeroFloats('dx', mul(get('total'), mul(mul(get('N'), get('A')), get('B'))))}
  ${loop(
    's',
    int(0),
    get('rows'),
    1,
    loop(
      'n',
      int(0),
      get('N'),
      1,
      loop(
        'a',
        int(0),
        get('A'),
        1,
        `
    ${set(
      'base',
      add(mul(get('s'), mul(mul(get('N'), get('A')), get('B'))), mul(add(mul(get('n'), get('A')), get('a')), get('B'))),
    )}
    (if ${get('overA')} (then
      ${set('v', splat(`(f32.div (f32.const 1) (f32.convert_i32_s ${get('A')}))`))}
      ${elementwise('b', int(0), get('B'), (x) =>
        x.store(
          'dx',
          add(get('base'), get('b')),
          vmul(get('v'), x.load('dy', add(mul(get('s'), mul(get('N'), get('B'))), mul(get('n'), get('B')), get('b')))),
        ),
      )})
    (else
      ${set(
        'v',
        splat(
          `(f32.div ${loadf(
            'dy',
            add(mul(get('s'), mul(get('N'), get('A'))), mul(get('n'), get('A')), get('a')),
          )} (f32.convert_i32_s ${get('B')}))`,
        ),
      )}
      ${elementwise('b', int(0), get('B'), (x) => x.store('dx', add(get('base'), get('b')), get('v')))}))`,
      ),
    ),
  )}`,
);

/**
 * One LSTM tick of every cell (S a multiple of 4): pre = z + U h (gates i, f, g, o in row blocks of S); i, f,
 * o = sigmoid, g = 2 sigmoid - 1; c' = f c + i g; h' = o tanh(c'). From state [2S, C] into out [2S, C]; the
 * activated gates go to acts [4S, C] for the gradient. u4 (scratch, 4S x S floats) holds U regrouped by blocks
 * of 4 rows, [4S/4][S][4], so each step of the product reads 4 rows' coefficients at fixed offsets.
 */
const vsmlTick = fn(
  'vsml_tick',
  'state z U out acts u4 S C',
  'q k r s row pu ph a0:v128 a1:v128 a2:v128 a3:v128 hv:v128 e:v128 t:v128 u:v128 cn:v128 tc:v128',
  `;; regroup U: u4[(row / 4) S 4 + s 4 + row % 4] = U[row S + s]
  ${loop(
    'row',
    int(0),
    mul(get('S'), int(4)),
    1,
    loop(
      's',
      int(0),
      get('S'),
      1,
      storef(
        'u4',
        add(
          mul(`(i32.shr_u ${get('row')} (i32.const 2))`, mul(get('S'), int(4))),
          mul(get('s'), int(4)),
          `(i32.and ${get('row')} (i32.const 3))`,
        ),
        loadf('U', add(mul(get('row'), get('S')), get('s'))),
      ),
    ),
  )}
  ${elementwise(
    'q',
    int(0),
    get('C'),
    (x) => `
    ${loop(
      'row',
      int(0),
      mul(get('S'), int(4)),
      4,
      `
      ${[0, 1, 2, 3]
        .map((j) => set(`a${j}`, x.load('z', add(mul(add(get('row'), int(j)), get('C')), get('q')))))
        .join('\n')}
      ${set('pu', add(get('u4'), mul(mul(get('row'), get('S')), int(4))))}
      ${set('ph', at('state', get('q')))}
      ${loop(
        's',
        int(0),
        get('S'),
        1,
        `
        ${set('hv', x.loadAt(get('ph')))}
        ${[0, 1, 2, 3]
          .map((j) =>
            set(`a${j}`, vadd(get(`a${j}`), vmul(`(v128.load32_splat offset=${4 * j} ${get('pu')})`, get('hv')))),
          )
          .join('\n')}
        ${set('pu', add(get('pu'), int(16)))}
        ${set('ph', add(get('ph'), mul(get('C'), int(4))))}`,
      )}
      ;; rows row..row+3 lie in one gate (S is a multiple of 4): g = 2 sigmoid - 1, the others sigmoid
      ${set('k', `(i32.div_u ${get('row')} ${get('S')})`)}
      ${[0, 1, 2, 3]
        .map(
          (j) => `
        ${sigmoid4('e', get(`a${j}`), 't', 'u')}
        (if (i32.eq ${get('k')} (i32.const 2)) (then ${set('e', vsub(vmul(get('e'), vec(2)), ONE))}))
        ${x.store('acts', add(mul(add(get('row'), int(j)), get('C')), get('q')), get('e'))}`,
        )
        .join('\n')}`,
    )}
    ${loop(
      's',
      int(0),
      get('S'),
      1,
      `
      ${set(
        'cn',
        vadd(
          vmul(
            x.load('acts', add(mul(add(get('S'), get('s')), get('C')), get('q'))),
            x.load('state', add(mul(add(get('S'), get('s')), get('C')), get('q'))),
          ),
          vmul(
            x.load('acts', add(mul(get('s'), get('C')), get('q'))),
            x.load('acts', add(mul(add(mul(get('S'), int(2)), get('s')), get('C')), get('q'))),
          ),
        ),
      )}
      ${tanh4('tc', get('cn'), 't', 'u')}
      ${x.store('out', add(mul(add(get('S'), get('s')), get('C')), get('q')), get('cn'))}
      ${x.store(
        'out',
        add(mul(get('s'), get('C')), get('q')),
        vmul(x.load('acts', add(mul(add(mul(get('S'), int(3)), get('s')), get('C')), get('q'))), get('tc')),
      )}`,
    )}`,
  )}`,
);

/**
 * vsml_tick's gradient: from dout [2S, C] (for h', c'), the input state, acts, out and U: dstate [2S, C] and the
 * gate pre-activations' gradient dpre [4S, C] (which is also z's; U's is dpre h^T, a matMul outside).
 */
const vsmlTickGrad = fn(
  'vsml_tick_grad',
  'dout state acts out U dstate dpre S C',
  'q s row pu pd dh:v128 dc:v128 ig:v128 fg:v128 gg:v128 og:v128 tc:v128 t:v128 u:v128 a0:v128 a1:v128 a2:v128 ' +
    'a3:v128 ' +
    'dp:v128',
  elementwise('q', int(0), get('C'), (x) => {
    const r = (block: number, i: string) => add(mul(add(mul(get('S'), int(block)), i), get('C')), get('q'));
    return `
    ${loop(
      's',
      int(0),
      get('S'),
      1,
      `
      ${set('dh', x.load('dout', r(0, get('s'))))}
      ${set('ig', x.load('acts', r(0, get('s'))))}
      ${set('fg', x.load('acts', r(1, get('s'))))}
      ${set('gg', x.load('acts', r(2, get('s'))))}
      ${set('og', x.load('acts', r(3, get('s'))))}
      ${tanh4('tc', x.load('out', r(1, get('s'))), 't', 'u')}
      ${set(
        'dc',
        vadd(x.load('dout', r(1, get('s'))), vmul(get('dh'), get('og'), vsub(ONE, vmul(get('tc'), get('tc'))))),
      )}
      ${x.store('dpre', r(0, get('s')), vmul(get('dc'), get('gg'), get('ig'), vsub(ONE, get('ig'))))}
      ${x.store(
        'dpre',
        r(1, get('s')),
        vmul(get('dc'), x.load('state', r(1, get('s'))), get('fg'), vsub(ONE, get('fg'))),
      )}
      ${x.store(
        'dpre',
        r(2, get('s')),
        vmul(get('dc'), get('ig'), vadd(ONE, get('gg')), vsub(ONE, get('gg')), vec(0.5)),
      )}
      ${x.store('dpre', r(3, get('s')), vmul(get('dh'), get('tc'), get('og'), vsub(ONE, get('og'))))}
      ${x.store('dstate', r(1, get('s')), vmul(get('dc'), get('fg')))}`,
    )}
    ;; dh = U^T dpre, 4 rows of dh at a time: U[row, s..s+3] are adjacent
    ${loop(
      's',
      int(0),
      get('S'),
      4,
      `
      ${[0, 1, 2, 3].map((j) => set(`a${j}`, vec(0))).join('\n')}
      ${set('pu', at('U', get('s')))}
      ${set('pd', at('dpre', get('q')))}
      ${loop(
        'row',
        int(0),
        mul(get('S'), int(4)),
        1,
        `
        ${set('dp', x.loadAt(get('pd')))}
        ${[0, 1, 2, 3]
          .map((j) =>
            set(`a${j}`, vadd(get(`a${j}`), vmul(`(v128.load32_splat offset=${4 * j} ${get('pu')})`, get('dp')))),
          )
          .join('\n')}
        ${set('pu', add(get('pu'), mul(get('S'), int(4))))}
        ${set('pd', add(get('pd'), mul(get('C'), int(4))))}`,
      )}
      ${[0, 1, 2, 3]
        .map((j) => x.store('dstate', add(mul(add(get('s'), int(j)), get('C')), get('q')), get(`a${j}`)))
        .join('\n')}`,
    )}`;
  }),
);

/** Softmax over the rows of x [m, n] (small n: one float at a time). */
const softmax = fn(
  'softmax',
  'x y m n',
  'i j row max:f32 sum:f32 e:v128 t:v128 u:v128',
  loop(
    'i',
    int(0),
    get('m'),
    1,
    `
    ${set('row', mul(get('i'), get('n')))}
    ${set('max', float(-3.4e38))}
    ${loop('j', int(0), get('n'), 1, set('max', `(f32.max ${get('max')} ${loadf('x', add(get('row'), get('j')))})`))}
    ${set('sum', float(0))}
    ${loop(
      'j',
      int(0),
      get('n'),
      1,
      `
      ${exp4('e', splat(`(f32.sub ${loadf('x', add(get('row'), get('j')))} ${get('max')})`), 't', 'u')}
      ${storef('y', add(get('row'), get('j')), `(f32x4.extract_lane 0 ${get('e')})`)}
      ${set('sum', `(f32.add ${get('sum')} (f32x4.extract_lane 0 ${get('e')}))`)}`,
    )}
    ${set('sum', `(f32.div (f32.const 1) ${get('sum')})`)}
    ${loop(
      'j',
      int(0),
      get('n'),
      1,
      storef('y', add(get('row'), get('j')), `(f32.mul ${loadf('y', add(get('row'), get('j')))} ${get('sum')})`),
    )}`,
  ),
);

/** Softmax's gradient: dx = (dy - sum_j dy_j y_j) y, per row. */
const softmaxGrad = fn(
  'softmax_grad',
  'dy y dx m n',
  'i j row dot:f32',
  loop(
    'i',
    int(0),
    get('m'),
    1,
    `
    ${set('row', mul(get('i'), get('n')))}
    ${set('dot', float(0))}
    ${loop(
      'j',
      int(0),
      get('n'),
      1,
      set(
        'dot',
        `(f32.add ${get('dot')} (f32.mul ${loadf(
          'dy',
          add(get('row'), get('j')),
        )} ${loadf('y', add(get('row'), get('j')))}))`,
      ),
    )}
    ${loop(
      'j',
      int(0),
      get('n'),
      1,
      storef(
        'dx',
        add(get('row'), get('j')),
        `(f32.mul (f32.sub ${loadf(
          'dy',
          add(get('row'), get('j')),
        )} ${get('dot')}) ${loadf('y', add(get('row'), get('j')))})`,
      ),
    )}`,
  ),
);

/** exp, sigmoid and tanh over x[len] into y (mode 0, 1, 2): for testing the approximations. */
const activations = fn(
  'activation',
  'x y len mode',
  'i e:v128 s:v128 u:v128',
  elementwise(
    'i',
    int(0),
    get('len'),
    (a) => `
    (if (i32.eqz ${get('mode')}) (then ${exp4('e', a.load('x', get('i')), 's', 'u')}))
    (if (i32.eq ${get('mode')} (i32.const 1)) (then ${sigmoid4('e', a.load('x', get('i')), 's', 'u')}))
    (if (i32.eq ${get('mode')} (i32.const 2)) (then ${tanh4('e', a.load('x', get('i')), 's', 'u')}))
    ${a.store('y', get('i'), get('e'))}`,
  ),
);

export const SIMD_SOURCES = [
  transpose,
  colsum,
  relugrad,
  layernorm,
  layernormGrad,
  attention,
  attentionGrad,
  sumsq,
  gemmAcc,
  gemmTransBAcc,
  adam,
  lstmCell,
  lstmCellGrad,
  combine,
  combineGrad,
  cellMean,
  cellSpread,
  vsmlTick,
  vsmlTickGrad,
  softmax,
  softmaxGrad,
  activations,
];

/** The words of a space-separated list, as a tuple type. */
type Words<S extends string> = S extends `${infer W} ${infer Rest}`
  ? W extends ''
    ? Words<Rest>
    : [W, ...Words<Rest>]
  : S extends ''
    ? []
    : [S];
/** A number for each element of tuple T. */
type Numbers<T extends unknown[]> = { [I in keyof T]: number };
/** A kernel's export: one number per declared parameter (pointers, sizes, floats); a number back if it has a result. */
type ExportOf<K> =
  K extends KernelSource<string, infer P, infer R>
    ? (...args: Numbers<Words<P>>) => R extends ValueType ? number : void
    : never;
/** The module's exports, computed from SIMD_SOURCES: each kernel's name and parameter list are declared once, there. */
export type SimdExports = { [K in (typeof SIMD_SOURCES)[number] as K['name']]: ExportOf<K> };

let compiled: WebAssembly.Module | null | undefined;

/** The compiled module, or null where WebAssembly SIMD is unavailable. */
export function simdModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(assemble(SIMD_SOURCES) as BufferSource);
    } catch (err) {
      if (!(err instanceof WebAssembly.CompileError)) throw err;
      compiled = null;
    }
  }
  return compiled;
}

/** An instance of the kernels working on `memory`. */
export function instantiate(memory: WebAssembly.Memory): SimdExports {
  const module = simdModule();
  if (!module) throw new Error('WebAssembly SIMD is not available');
  return new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as SimdExports;
}
