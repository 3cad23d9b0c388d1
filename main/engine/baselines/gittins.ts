// Gittins indices of Bernoulli arms with Beta(a, b) posteriors, by calibration (the retirement formulation):
// the index of state (a, b) is the retirement reward lambda at which retiring for good (lambda every step from
// now on) and pulling once more, then continuing optimally, are worth the same. For one lambda, backward induction
// over the posterior states a + b <= N (N the truncation) gives the value of every state at once, so a grid of
// lambdas brackets every state's index between two grid points; the index is the root of the continuation
// advantage, located by linear interpolation inside that bracket (it is strictly decreasing in lambda, so the
// bracket is unique). Values are per-step reward rates: V(s) = (1 - gamma) x the discounted value.
// (A bisection on lambda per state needs its own induction per state and step, ~1e10 steps at 100 pulls; the grid
// shares each induction among all states: ~5e7 steps, and within 1e-3 of that bisection, 1e-5 for most states.)

export interface GittinsTableOptions {
  /** Discount factor gamma in (0, 1). */
  discount: number;
  /** Largest level a + b whose indices are kept (the states a policy can reach). */
  levels: number;
  /** Truncation level N > levels: beyond it the posterior is taken as known (no more learning). */
  truncation: number;
  /** Retirement rewards tried, evenly spaced over [0, 1]. */
  grid: number;
}

/** Indices of the states a, b >= 1, a + b <= levels, read by `at`. */
export interface GittinsTable {
  /** The index of Beta(a, b), a and b counting successes and failures plus the prior's 1. */
  at(a: number, b: number): number;
}

/** Builds a table (uncached: see `gittinsTable`). */
export function buildGittinsTable(options: GittinsTableOptions): GittinsTable {
  const side = options.levels + 1;
  const index = tabulate(options);
  return {
    at: (a, b) => {
      if (a < 1 || b < 1 || a + b > options.levels) throw new Error(`Gittins state (${a}, ${b}) is not tabulated`);
      return index[a * side + b];
    },
  };
}

/** Row-major [a][b] storage with side `levels + 1`. */
function tabulate(options: GittinsTableOptions): Float64Array {
  const { discount: g, levels, truncation: n, grid } = options;
  if (!(g > 0 && g < 1)) throw new Error(`Gittins discount must lie in (0, 1), got ${g}`);
  if (!(levels >= 2 && n > levels && grid >= 2)) throw new Error('Gittins table needs 2 <= levels < truncation');
  const side = levels + 1;
  const index = new Float64Array(side * side);
  // The advantage of continuing at the previous grid lambda, for each kept state (positive until the index).
  const prevAdvantage = new Float64Array(side * side);
  // value[a] holds V(a, level - a) of the level being built from the one above (rolling over levels).
  let above = new Float64Array(n + 1);
  let value = new Float64Array(n + 1);
  for (let j = 0; j <= grid; j++) {
    const lambda = j / grid;
    for (let a = 1; a < n; a++) above[a] = Math.max(lambda, a / n);
    for (let level = n - 1; level >= 2; level--) {
      const keep = level <= levels;
      for (let a = 1; a < level; a++) {
        const mean = a / level;
        // Pull once: reward `mean` now, then the posterior moves to (a + 1, b) or (a, b + 1).
        const pull = (1 - g) * mean + g * (mean * above[a + 1] + (1 - mean) * above[a]);
        value[a] = Math.max(pull, lambda);
        if (!keep) continue;
        const k = a * side + (level - a);
        const advantage = pull - lambda;
        const prev = prevAdvantage[k];
        // The root between the previous lambda (advantage prev > 0) and this one (advantage <= 0).
        if (j > 0 && prev > 0 && advantage <= 0) index[k] = (j - 1 + prev / (prev - advantage)) / grid;
        prevAdvantage[k] = advantage;
      }
      [above, value] = [value, above];
    }
  }
  return index;
}

const cache = new Map<string, GittinsTable>();

/** The index table for these options, built once per process and cached (building is the costly part). */
export function gittinsTable(options: GittinsTableOptions): GittinsTable {
  const key = `${options.discount}:${options.levels}:${options.truncation}:${options.grid}`;
  let table = cache.get(key);
  if (!table) {
    table = buildGittinsTable(options);
    cache.set(key, table);
  }
  return table;
}
