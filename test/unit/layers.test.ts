// The top-level layering (docs/architecture.md): main/ and renderer/ stand side by side on shared/, and shared/
// imports neither, nor Node, nor anything that needs a DOM at run time.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../..');

function sources(dir: string): string[] {
  return fs
    .readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.(ts|vue|mjs)$/.test(f))
    .map((f) => path.join(dir, f));
}

interface Import {
  file: string;
  target: string;
  typeOnly: boolean;
}

/** Every static import or re-export and every dynamic import() of a file. */
function importsOf(file: string): Import[] {
  const text = fs.readFileSync(path.join(root, file), 'utf8');
  const found: Import[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^'";]*?from\s+['"]([^'"]+)['"]/gm)) {
    found.push({ file, target: m[3], typeOnly: Boolean(m[2]) });
  }
  for (const m of text.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)) found.push({ file, target: m[1], typeOnly: false });
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g))
    found.push({ file, target: m[1], typeOnly: false });
  return found;
}

/** The top-level folder an import lands in, or the package it names. */
function landsIn(imp: Import): string {
  if (!imp.target.startsWith('.')) return `package:${imp.target}`;
  return path.relative(root, path.resolve(root, path.dirname(imp.file), imp.target)).split(path.sep)[0];
}

const describeImport = (imp: Import) => `${imp.file} imports '${imp.target}'`;

describe('layering', () => {
  it('finds the imports it checks', () => {
    const main = sources('main').flatMap(importsOf);
    expect(main.some((i) => landsIn(i) === 'shared')).toBe(true);
    expect(
      sources('renderer/src')
        .flatMap(importsOf)
        .some((i) => landsIn(i) === 'shared'),
    ).toBe(true);
  });

  it('main/ does not import renderer/, and renderer/ does not import main/', () => {
    const wrong = [
      ...sources('main')
        .flatMap(importsOf)
        .filter((i) => landsIn(i) === 'renderer'),
      ...sources('renderer')
        .flatMap(importsOf)
        .filter((i) => landsIn(i) === 'main'),
    ];
    expect(wrong.map(describeImport)).toEqual([]);
  });

  it('shared/ imports only shared/, zod, and ECharts for types', () => {
    const wrong = sources('shared')
      .flatMap(importsOf)
      .filter((i) => {
        const where = landsIn(i);
        if (where === 'shared' || where === 'package:zod') return false;
        return !(i.typeOnly && where.startsWith('package:echarts/'));
      });
    expect(wrong.map(describeImport)).toEqual([]);
  });
});
