// Reverse-mode differentiation of dual numbers on typed arrays: every matrix carries a tangent (its derivative along
// one direction of the inputs, forward mode), and the tape takes gradients of both the values and the tangents.
// The learned objective needs exactly this: its loss, the tangent of its loss along a direction in action space, and
// gradients of either with respect to its weights (./objective.ts, ./metaGradient.ts). Written for the objective's
// small matrices, where tfjs would spend its time in ~10 us per kernel call (thousands of calls per meta-step)
// rather than in arithmetic; its matrix products run as WebAssembly SIMD (../../models/hostProducts.ts).
//
// Rules, for y = f(x) with tangent y' = f'(x) x' and incoming adjoints gy (of y) and gy' (of y'):
//   gx += f'(x) gy + f''(x) x' gy',   gx' += f'(x) gy'
// and for y = a b (so y' = a' b + a b'): ga += b gy + b' gy', ga' += b gy', gb += a gy + a' gy', gb' += a gy'.
// Linear maps act the same way on values and tangents. Parameters have no tangent (null: zero).
import { matMulAcc, matMulTransAAcc, matMulTransBAcc } from '../../models/hostProducts.js';

/** A matrix [rows, cols] (row-major), its tangent, and (once the backward pass reaches it) their adjoints. */
export class Dual {
  gv: Float32Array | null = null;
  gd: Float32Array | null = null;
  /** Data no gradient is wanted for (the network's inputs other than the policy's actions). */
  constant = false;
  constructor(
    readonly rows: number,
    readonly cols: number,
    readonly v: Float32Array,
    readonly d: Float32Array | null,
  ) {}

  /** The adjoint of the value, allocated on first use. */
  adjV(): Float32Array {
    this.gv ??= new Float32Array(this.v.length);
    return this.gv;
  }

  adjD(): Float32Array {
    this.gd ??= new Float32Array(this.v.length);
    return this.gd;
  }
}

/** An elementwise function: its kind and, for rsqrtPlus and softClip, its constant. */
export interface Unary {
  kind: 'relu' | 'square' | 'rsqrtPlus' | 'softClip';
  p: number;
}

export const UNARY = {
  relu: { kind: 'relu', p: 0 },
  square: { kind: 'square', p: 0 },
} satisfies Record<string, Unary>;

/** 1 / sqrt(x + eps) (LayerNorm's inverse standard deviation). */
export const rsqrtPlus = (eps: number): Unary => ({ kind: 'rsqrtPlus', p: eps });

/** s tanh(x / s): a soft clip to (-s, s). */
export const softClip = (s: number): Unary => ({ kind: 'softClip', p: s });

/**
 * y = f(x) on [from, to), with f' in d1 and (when d2 is given) f'' in d2. One loop per kind: a call per element
 * through a function table cost more than the arithmetic.
 */
function applyUnary(
  { kind, p }: Unary,
  x: Float32Array,
  y: Float32Array,
  d1: Float32Array,
  d2: Float32Array | null,
  from: number,
  to: number,
): void {
  switch (kind) {
    case 'relu':
      for (let i = from; i < to; i++) {
        const pos = x[i] > 0;
        y[i] = pos ? x[i] : 0;
        d1[i] = pos ? 1 : 0;
      }
      return; // f'' = 0 (d2 starts at 0)
    case 'square':
      for (let i = from; i < to; i++) {
        y[i] = x[i] * x[i];
        d1[i] = 2 * x[i];
        if (d2) d2[i] = 2;
      }
      return;
    case 'rsqrtPlus':
      for (let i = from; i < to; i++) {
        const r = 1 / Math.sqrt(x[i] + p);
        y[i] = r;
        d1[i] = -0.5 * r * r * r;
        if (d2) d2[i] = 0.75 * r * r * r * r * r;
      }
      return;
    case 'softClip':
      for (let i = from; i < to; i++) {
        const t = Math.tanh(x[i] / p);
        y[i] = p * t;
        d1[i] = 1 - t * t;
        if (d2) d2[i] = (-2 * t * (1 - t * t)) / p;
      }
      return;
  }
}

/** Records operations; `backward` runs their adjoints in reverse order. */
export class Tape {
  private readonly steps: (() => void)[] = [];

  /** `paramGrads` false: the backward pass skips the parameters' gradients (when only an input's is wanted). */
  constructor(private readonly paramGrads = true) {}

  /** An input; `wanted`: its gradient is read after the backward pass (else none is computed into it). */
  input(rows: number, cols: number, v: Float32Array, d: Float32Array | null = null, wanted = false): Dual {
    const x = new Dual(rows, cols, v, d);
    x.constant = !wanted;
    return x;
  }

  /** y = x W (+ b): W [x.cols, out], b [out]; W and b are parameters (their gradients accumulate in gW, gb). */
  affine(
    x: Dual,
    w: Float32Array,
    gw: Float32Array,
    out: number,
    b: Float32Array | null,
    gb: Float32Array | null,
  ): Dual {
    const { rows, cols } = x;
    const v = new Float32Array(rows * out);
    const d = x.d ? new Float32Array(rows * out) : null;
    matMulAcc(x.v, w, v, rows, cols, out);
    if (d) matMulAcc(x.d!, w, d, rows, cols, out);
    if (b) for (let r = 0; r < rows; r++) for (let j = 0; j < out; j++) v[r * out + j] += b[j];
    const y = new Dual(rows, out, v, d);
    this.steps.push(() => {
      if (y.gv) {
        if (this.paramGrads) {
          matMulTransAAcc(x.v, y.gv, gw, rows, cols, out);
          if (gb) for (let r = 0; r < rows; r++) for (let j = 0; j < out; j++) gb[j] += y.gv[r * out + j];
        }
        if (!x.constant) matMulTransBAcc(y.gv, w, x.adjV(), rows, out, cols);
      }
      if (y.gd && x.d) {
        if (this.paramGrads) matMulTransAAcc(x.d, y.gd, gw, rows, cols, out);
        if (!x.constant) matMulTransBAcc(y.gd, w, x.adjD(), rows, out, cols);
      }
    });
    return y;
  }

  /** f elementwise; with `second`, f on columns [0, split) and `second` on the rest (mixed activations). */
  unary(x: Dual, fn: Unary, second: Unary | null = null, split = x.cols): Dual {
    const n = x.v.length;
    const { rows, cols } = x;
    const v = new Float32Array(n);
    const d1 = new Float32Array(n);
    const d2 = x.d ? new Float32Array(n) : null;
    if (second && split < cols) {
      for (let r = 0; r < rows; r++) {
        applyUnary(fn, x.v, v, d1, d2, r * cols, r * cols + split);
        applyUnary(second, x.v, v, d1, d2, r * cols + split, (r + 1) * cols);
      }
    } else applyUnary(fn, x.v, v, d1, d2, 0, n);
    let d: Float32Array | null = null;
    if (x.d) {
      d = new Float32Array(n);
      for (let i = 0; i < n; i++) d[i] = d1[i] * x.d[i];
    }
    const y = new Dual(rows, cols, v, d);
    this.steps.push(() => {
      const { gv, gd } = y;
      const xd = x.d;
      if (gv) {
        const gx = x.adjV();
        for (let i = 0; i < n; i++) gx[i] += d1[i] * gv[i];
      }
      if (gd && xd && d2) {
        const gx = x.adjV();
        const gxd = x.adjD();
        for (let i = 0; i < n; i++) {
          gx[i] += d2[i] * xd[i] * gd[i];
          gxd[i] += d1[i] * gd[i];
        }
      }
    });
    return y;
  }

  /** Elementwise a * b, where b may be a column [rows, 1] broadcast over a's columns. */
  mul(a: Dual, b: Dual): Dual {
    const { rows, cols } = a;
    const per = b.cols === 1 && cols !== 1 ? cols : 1; // elements of a per element of b
    const n = a.v.length;
    const v = new Float32Array(n);
    const d = a.d || b.d ? new Float32Array(n) : null;
    for (let j = 0, i = 0; j < b.v.length; j++) {
      const bv = b.v[j];
      const bd = b.d ? b.d[j] : 0;
      for (let k = 0; k < per; k++, i++) {
        v[i] = a.v[i] * bv;
        if (d) d[i] = (a.d ? a.d[i] * bv : 0) + a.v[i] * bd;
      }
    }
    const y = new Dual(rows, cols, v, d);
    this.steps.push(() => {
      const { gv, gd } = y;
      if (!gv && !gd) return;
      const ga = a.adjV();
      const gb = b.adjV();
      const gad = gd && a.d ? a.adjD() : null;
      const gbd = gd && b.d ? b.adjD() : null;
      for (let j = 0, i = 0; j < b.v.length; j++) {
        const bv = b.v[j];
        const bd = b.d ? b.d[j] : 0;
        let sb = 0;
        let sbd = 0;
        for (let k = 0; k < per; k++, i++) {
          const yv = gv ? gv[i] : 0;
          const yd = gd ? gd[i] : 0;
          ga[i] += bv * yv + bd * yd;
          sb += a.v[i] * yv + (a.d ? a.d[i] * yd : 0);
          if (gad) gad[i] += bv * yd;
          if (gbd) sbd += a.v[i] * yd;
        }
        gb[j] += sb;
        if (gbd) gbd[j] += sbd;
      }
    });
    return y;
  }

  /** a + s b (same shapes, or b a column broadcast over a's columns). */
  add(a: Dual, b: Dual, s = 1): Dual {
    const { rows, cols } = a;
    const per = b.cols === 1 && cols !== 1 ? cols : 1;
    const n = a.v.length;
    const v = new Float32Array(n);
    const d = a.d || b.d ? new Float32Array(n) : null;
    for (let j = 0, i = 0; j < b.v.length; j++) {
      const bv = s * b.v[j];
      const bd = b.d ? s * b.d[j] : 0;
      for (let k = 0; k < per; k++, i++) {
        v[i] = a.v[i] + bv;
        if (d) d[i] = (a.d ? a.d[i] : 0) + bd;
      }
    }
    const y = new Dual(rows, cols, v, d);
    this.steps.push(() => {
      for (const [g, adjA, adjB, hasA, hasB] of [
        [y.gv, () => a.adjV(), () => b.adjV(), true, true],
        [y.gd, () => a.adjD(), () => b.adjD(), !!a.d, !!b.d],
      ] as const) {
        if (!g) continue;
        if (hasA) addInto(adjA(), g);
        if (!hasB) continue;
        const gb = adjB();
        for (let j = 0, i = 0; j < gb.length; j++) {
          let sum = 0;
          for (let k = 0; k < per; k++, i++) sum += g[i];
          gb[j] += s * sum;
        }
      }
    });
    return y;
  }

  /** x * g + b per column (LayerNorm's gain and shift, parameters). */
  scaleShift(x: Dual, g: Float32Array, gg: Float32Array, b: Float32Array, gb: Float32Array): Dual {
    const { rows, cols } = x;
    const v = new Float32Array(rows * cols);
    const d = x.d ? new Float32Array(rows * cols) : null;
    for (let i = 0; i < v.length; i++) {
      const j = i % cols;
      v[i] = x.v[i] * g[j] + b[j];
      if (d) d[i] = x.d![i] * g[j];
    }
    const y = new Dual(rows, cols, v, d);
    this.steps.push(() => {
      if (y.gv) {
        const gx = x.adjV();
        for (let i = 0; i < v.length; i++) {
          const j = i % cols;
          gg[j] += x.v[i] * y.gv[i];
          gb[j] += y.gv[i];
          gx[i] += g[j] * y.gv[i];
        }
      }
      if (y.gd && x.d) {
        const gxd = x.adjD();
        for (let i = 0; i < v.length; i++) {
          const j = i % cols;
          gg[j] += x.d[i] * y.gd[i];
          gxd[i] += g[j] * y.gd[i];
        }
      }
    });
    return y;
  }

  /** The mean of each row, [rows, 1]. */
  rowMean(x: Dual): Dual {
    const { rows, cols } = x;
    const mean = (m: Float32Array) => {
      const out = new Float32Array(rows);
      for (let r = 0; r < rows; r++) {
        let sum = 0;
        for (let c = 0; c < cols; c++) sum += m[r * cols + c];
        out[r] = sum / cols;
      }
      return out;
    };
    const y = new Dual(rows, 1, mean(x.v), x.d && mean(x.d));
    this.steps.push(() => {
      linearBackward(y, x, (g, gx) => {
        for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) gx[r * cols + c] += g[r] / cols;
      });
    });
    return y;
  }

  /** Means over groups of `size` consecutive rows (rows [k size, (k + 1) size) -> row k): over action dimensions. */
  groupMean(x: Dual, size: number): Dual {
    const { cols } = x;
    const rows = x.rows / size;
    const mean = (m: Float32Array) => {
      const out = new Float32Array(rows * cols);
      for (let r = 0; r < x.rows; r++) {
        const o = Math.floor(r / size) * cols;
        for (let c = 0; c < cols; c++) out[o + c] += m[r * cols + c] / size;
      }
      return out;
    };
    const y = new Dual(rows, cols, size === 1 ? x.v : mean(x.v), x.d && (size === 1 ? x.d : mean(x.d)));
    if (size === 1) return x;
    this.steps.push(() => {
      linearBackward(y, x, (g, gx) => {
        for (let r = 0; r < x.rows; r++) {
          const o = Math.floor(r / size) * cols;
          for (let c = 0; c < cols; c++) gx[r * cols + c] += g[o + c] / size;
        }
      });
    });
    return y;
  }

  /** Columns side by side (all parts have the same rows). */
  concatCols(parts: readonly Dual[]): Dual {
    const rows = parts[0].rows;
    const cols = parts.reduce((n, p) => n + p.cols, 0);
    const v = new Float32Array(rows * cols);
    const anyD = parts.some((p) => p.d);
    const d = anyD ? new Float32Array(rows * cols) : null;
    let offset = 0;
    const offsets = parts.map((p) => {
      for (let r = 0; r < rows; r++) {
        v.set(p.v.subarray(r * p.cols, (r + 1) * p.cols), r * cols + offset);
        if (p.d) d!.set(p.d.subarray(r * p.cols, (r + 1) * p.cols), r * cols + offset);
      }
      offset += p.cols;
      return offset - p.cols;
    });
    const y = new Dual(rows, cols, v, d);
    this.steps.push(() => {
      parts.forEach((p, k) => {
        linearBackward(y, p, (g, gp) => {
          for (let r = 0; r < rows; r++) {
            for (let c = 0; c < p.cols; c++) gp[r * p.cols + c] += g[r * cols + offsets[k] + c];
          }
        });
      });
    });
    return y;
  }

  /**
   * An LSTM cell's gates on pre-activations z [B, 4H] (i, f, g, o, the forget bias already in) and the previous cell
   * state c [B, H] (null: zero): c' = sigmoid(zi) tanh(zg) + sigmoid(zf) c, h = sigmoid(zo) tanh(c'), both times
   * `mask` [B] where given. One operation for the ~15 elementwise ones it stands for (slices, activations,
   * products, sums), with their rules (the header's) composed by hand in its backward pass.
   */
  lstmCell(z: Dual, c: Dual | null, mask: Float32Array | null): { h: Dual; c: Dual } {
    const B = z.rows;
    const H = z.cols / 4;
    const n = B * H;
    const zd = z.d;
    const cd = c?.d ?? null;
    const hasD = !!(zd || cd);
    const gate = new Float32Array(4 * n); // sigmoid(zi), sigmoid(zf), tanh(zg), sigmoid(zo): [q * n + e]
    const tc = new Float32Array(n); // tanh(c') before the mask
    const dcu = hasD ? new Float32Array(n) : null; // the tangent of c' before the mask
    const hv = new Float32Array(n);
    const cv = new Float32Array(n);
    const hd = hasD ? new Float32Array(n) : null;
    const cvd = hasD ? new Float32Array(n) : null;
    for (let r = 0, e = 0; r < B; r++) {
      const m = mask ? mask[r] : 1;
      for (let j = 0; j < H; j++, e++) {
        const zi = r * 4 * H + j;
        const si = 1 / (1 + Math.exp(-z.v[zi]));
        const sf = 1 / (1 + Math.exp(-z.v[zi + H]));
        const tg = Math.tanh(z.v[zi + 2 * H]);
        const so = 1 / (1 + Math.exp(-z.v[zi + 3 * H]));
        gate[e] = si;
        gate[n + e] = sf;
        gate[2 * n + e] = tg;
        gate[3 * n + e] = so;
        const cp = c ? c.v[e] : 0;
        const cu = si * tg + sf * cp;
        const t = Math.tanh(cu);
        tc[e] = t;
        hv[e] = m * so * t;
        cv[e] = m * cu;
        if (hasD) {
          const di = zd ? si * (1 - si) * zd[zi] : 0;
          const df = zd ? sf * (1 - sf) * zd[zi + H] : 0;
          const dg = zd ? (1 - tg * tg) * zd[zi + 2 * H] : 0;
          const dO = zd ? so * (1 - so) * zd[zi + 3 * H] : 0;
          const dc = di * tg + si * dg + df * cp + sf * (cd ? cd[e] : 0);
          dcu![e] = dc;
          hd![e] = m * (dO * t + so * (1 - t * t) * dc);
          cvd![e] = m * dc;
        }
      }
    }
    const hOut = new Dual(B, H, hv, hd);
    const cOut = new Dual(B, H, cv, cvd);
    this.steps.push(() => {
      const [gh, ghd, gc, gcd] = [hOut.gv, hOut.gd, cOut.gv, cOut.gd];
      if (!gh && !gc && !ghd && !gcd) return;
      const tangents = !!(ghd || gcd) && hasD;
      const gz = z.adjV();
      const gzd = tangents && zd ? z.adjD() : null;
      const gcp = c ? c.adjV() : null;
      const gcpd = tangents && cd ? c!.adjD() : null;
      for (let r = 0, e = 0; r < B; r++) {
        const m = mask ? mask[r] : 1;
        for (let j = 0; j < H; j++, e++) {
          const zi = r * 4 * H + j;
          const [si, sf, tg, so] = [gate[e], gate[n + e], gate[2 * n + e], gate[3 * n + e]];
          const t = tc[e];
          const t1 = 1 - t * t;
          const ah = gh ? m * gh[e] : 0;
          const ac = gc ? m * gc[e] : 0;
          const ahd = tangents && ghd ? m * ghd[e] : 0;
          const acd = tangents && gcd ? m * gcd[e] : 0;
          // Derivatives of the gates (1: first, 2: second) and their tangents.
          const i1 = si * (1 - si);
          const f1 = sf * (1 - sf);
          const g1 = 1 - tg * tg;
          const o1 = so * (1 - so);
          const dzi = zd ? zd[zi] : 0;
          const dzf = zd ? zd[zi + H] : 0;
          const dzg = zd ? zd[zi + 2 * H] : 0;
          const dzo = zd ? zd[zi + 3 * H] : 0;
          const dc = dcu ? dcu[e] : 0;
          const dt = t1 * dc;
          const cp = c ? c.v[e] : 0;
          const dcp = cd ? cd[e] : 0;
          // h = so tanh(c')
          const gso = t * ah + dt * ahd;
          const gsoD = t * ahd;
          const gt = so * ah + o1 * dzo * ahd;
          const gtD = so * ahd;
          // tanh(c'), plus what reaches c' directly
          const gC = t1 * gt - 2 * t * t1 * dc * gtD + ac;
          const gCD = t1 * gtD + acd;
          // c' = si tg + sf c
          const gsi = tg * gC + g1 * dzg * gCD;
          const gsiD = tg * gCD;
          const gtg = si * gC + i1 * dzi * gCD;
          const gtgD = si * gCD;
          const gsf = cp * gC + dcp * gCD;
          const gsfD = cp * gCD;
          if (gcp) gcp[e] += sf * gC + f1 * dzf * gCD;
          if (gcpd) gcpd[e] += sf * gCD;
          // The activations: gx += f' gy + f'' x' gy', gx' += f' gy'.
          gz[zi] += i1 * gsi + i1 * (1 - 2 * si) * dzi * gsiD;
          gz[zi + H] += f1 * gsf + f1 * (1 - 2 * sf) * dzf * gsfD;
          gz[zi + 2 * H] += g1 * gtg - 2 * tg * g1 * dzg * gtgD;
          gz[zi + 3 * H] += o1 * gso + o1 * (1 - 2 * so) * dzo * gsoD;
          if (gzd) {
            gzd[zi] += i1 * gsiD;
            gzd[zi + H] += f1 * gsfD;
            gzd[zi + 2 * H] += g1 * gtgD;
            gzd[zi + 3 * H] += o1 * gsoD;
          }
        }
      }
    });
    return { h: hOut, c: cOut };
  }

  /** Rows [from, from + count). */
  rowSlice(x: Dual, from: number, count: number): Dual {
    const [start, end] = [from * x.cols, (from + count) * x.cols];
    const y = new Dual(count, x.cols, x.v.slice(start, end), x.d ? x.d.slice(start, end) : null);
    this.steps.push(() => linearBackward(y, x, (g, gx) => addInto(gx.subarray(start, end), g)));
    return y;
  }

  /** Rows from a list of row blocks stacked on top of each other (the inverse of rowSlice). */
  stackRows(parts: readonly Dual[]): Dual {
    const cols = parts[0].cols;
    const rows = parts.reduce((n, p) => n + p.rows, 0);
    const v = new Float32Array(rows * cols);
    const d = parts.some((p) => p.d) ? new Float32Array(rows * cols) : null;
    let at = 0;
    const starts = parts.map((p) => {
      v.set(p.v, at * cols);
      if (p.d) d!.set(p.d, at * cols);
      at += p.rows;
      return (at - p.rows) * cols;
    });
    const y = new Dual(rows, cols, v, d);
    this.steps.push(() => {
      parts.forEach((p, k) => {
        if (y.gv) addInto(p.adjV(), y.gv.subarray(starts[k], starts[k] + p.v.length));
        if (y.gd && p.d) addInto(p.adjD(), y.gd.subarray(starts[k], starts[k] + p.v.length));
      });
    });
    return y;
  }

  /** Runs the adjoints, last operation first (seed the outputs' gv / gd before). */
  backward(): void {
    for (let i = this.steps.length - 1; i >= 0; i--) this.steps[i]();
  }
}

function addInto(target: Float32Array, source: Float32Array): void {
  for (let i = 0; i < source.length; i++) target[i] += source[i];
}

/**
 * The backward pass of an operation linear in x (it acts alike on values and tangents): body(gy, gx) for the
 * value's adjoint and, where x has a tangent, for the tangent's.
 */
function linearBackward(y: Dual, x: Dual, body: (gy: Float32Array, gx: Float32Array) => void): void {
  if (y.gv) body(y.gv, x.adjV());
  if (y.gd && x.d) body(y.gd, x.adjD());
}
