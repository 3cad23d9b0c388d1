// Datasets that an operating-system package installs as IDX files: used where they lie, nothing copied, so
// specs can name them on any machine that has the package. An import under the same name takes precedence
// (that is how other systems get them: `metalab import fashion-mnist ...`).
import fs from 'node:fs';
import { idxPaths, idxSource } from './imported.js';
import type { DatasetCounts, DatasetSource } from './types.js';

interface Packaged {
  name: string;
  description: string;
  dir: string;
  counts: DatasetCounts;
}

/** Adding one: its folder, the counts its files hold, and one entry here. */
const PACKAGED: readonly Packaged[] = [
  {
    name: 'fashion-mnist',
    description: "Fashion-MNIST, 60,000 + 10,000 clothing images (Debian's dataset-fashion-mnist)",
    dir: '/usr/share/datasets/fashion-mnist',
    counts: { width: 28, height: 28, trainCount: 60_000, testCount: 10_000, numClasses: 10 },
  },
];

/** The packaged datasets whose files are on this machine. */
export function packagedSources(): DatasetSource[] {
  return PACKAGED.flatMap((p) => {
    const files = idxPaths(p.dir, '.gz');
    return Object.values(files).every((f) => fs.existsSync(f))
      ? [idxSource(p.name, p.description, p.counts, files, p.dir)]
      : [];
  });
}
