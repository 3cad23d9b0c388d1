// Seeded random numbers, identical on every backend: all sampling goes through here, never Math.random.

/** Mixes integers and strings into one 32-bit seed (FNV-1a over the parts, then a murmur3 finaliser). */
export function seedFrom(...parts: (number | string)[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    const text = typeof part === 'number' ? `#${part}` : `$${part}`;
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** sfc32: small, fast, and good enough for sampling tasks and initial weights. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;
  private spare: number | null = null;

  constructor(seed: number) {
    this.a = seed >>> 0;
    this.b = seedFrom(seed, 'b');
    this.c = seedFrom(seed, 'c');
    for (let i = 0; i < 12; i++) this.next();
  }

  /** Uniform in [0, 1). */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Standard normal (Box-Muller, caching the second value). */
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const u = 1 - this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  fillNormal(out: Float32Array, scale = 1, offset = 0, count = out.length): Float32Array {
    for (let i = 0; i < count; i++) out[offset + i] = this.normal() * scale;
    return out;
  }

  /** The internal state, JSON-safe: [a, b, c, d], and the cached normal when there is one. */
  state(): number[] {
    const words = [this.a, this.b, this.c, this.d];
    return this.spare === null ? words : [...words, this.spare];
  }

  /** A generator that continues exactly where the one whose `state()` this is stood. */
  static fromState(s: readonly number[]): Rng {
    if ((s.length !== 4 && s.length !== 5) || !s.slice(0, 4).every(Number.isInteger) || !s.every(Number.isFinite))
      throw new Error('not an Rng state');
    const rng = new Rng(0);
    [rng.a, rng.b, rng.c, rng.d] = s;
    rng.spare = s.length === 5 ? s[4] : null;
    return rng;
  }
}
