// `metalab objectives`: the learned objectives (MetaGenRL) kept in the lab — list them, export one to a file
// another lab imports, import such a file, rename, delete.
import fs from 'node:fs';
import path from 'node:path';
import { LabError, labApiArgs } from '../../shared/api.js';
import type { StoredObjective } from '../../shared/learnedObjective.js';
import type { Lab } from '../services/lab.js';
import { UsageError } from './args.js';
import { openLab } from './lab.js';
import { formatNumber, table } from './table.js';

export const OBJECTIVES_USAGE = [
  '  metalab objectives           list the learned objectives (MetaGenRL) stored in the lab',
  '  metalab objectives export <id> <file.json>',
  '                               write one to a file another lab can import',
  '  metalab objectives import <file.json>',
  '                               store the objective of such a file (checked against its sha256)',
  '  metalab objectives rename <id> <name>',
  '                               give one a new name',
  '  metalab objectives delete <id>',
  "                               remove one (refused while an experiment's spec trains by it)",
].join('\n');

interface Action {
  /** The arguments it takes, for the usage message. */
  args: string[];
  run(lab: Lab, args: string[]): Promise<void>;
}

const ACTIONS: Record<string, Action> = {
  list: { args: [], run: list },
  export: { args: ['id', 'file.json'], run: exportTo },
  import: { args: ['file.json'], run: importFrom },
  rename: { args: ['id', 'name'], run: rename },
  delete: { args: ['id'], run: remove },
};

export async function commandObjectives(args: string[]): Promise<number> {
  const [name = 'list', ...rest] = args;
  const action = Object.hasOwn(ACTIONS, name) ? ACTIONS[name] : undefined;
  if (!action) throw new UsageError(`unknown objectives command '${name}' (export, import, rename or delete)`);
  if (rest.length !== action.args.length) {
    const takes = action.args.length ? action.args.map((a) => `<${a}>`).join(' ') : 'no arguments';
    throw new UsageError(`metalab objectives${name === 'list' ? '' : ` ${name}`} takes ${takes}`);
  }
  const lab = openLab();
  try {
    await action.run(lab, rest);
    return 0;
  } finally {
    await lab.close();
  }
}

/** An objective's id as `metalab objectives` lists it; anything else is refused in one sentence (exit 1). */
function objectiveId(text: string): number {
  const id = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(id) || id < 1)
    throw new LabError(`'${text}' is not an objective id: give the number \`metalab objectives\` lists`);
  return id;
}

const trainedOn = (o: StoredObjective) => [...new Set(o.lineage.trainEnvs.map((e) => e.name))].join(', ') || '-';

function madeBy(o: StoredObjective): string {
  if (o.lineage.runId !== null) return `r${o.lineage.runId}`;
  return o.lineage.importedFrom ? `imported (${o.lineage.importedFrom})` : '-';
}

const described = (id: number, o: Pick<StoredObjective, 'name' | 'sha256'>) =>
  `objective ${id} "${o.name}" (sha256 ${o.sha256.slice(0, 12)})`;

async function list(lab: Lab): Promise<void> {
  const objectives = await lab.listObjectives();
  if (!objectives.length) {
    process.stdout.write(
      'no learned objectives yet: a metagenrl experiment stores the one it meta-trains,\n' +
        'and `metalab objectives import <file.json>` adds one from a file\n',
    );
    return;
  }
  const rows = objectives.map((o) => [
    o.id,
    o.name,
    o.sha256.slice(0, 12),
    trainedOn(o),
    formatNumber(o.lineage.metaSteps),
    madeBy(o),
  ]);
  process.stdout.write(`${table(['id', 'name', 'sha256', 'trained on', 'meta-steps', 'from run'], rows)}\n`);
}

async function exportTo(lab: Lab, [text, file]: string[]): Promise<void> {
  const id = objectiveId(text);
  const contents = await lab.exportObjective(id);
  try {
    fs.writeFileSync(file, `${JSON.stringify(contents, null, 1)}\n`);
  } catch (err) {
    throw new LabError(`cannot write ${file}: ${(err as Error).message}`);
  }
  process.stdout.write(`wrote ${described(id, contents)} to ${file}\n`);
}

async function importFrom(lab: Lab, [file]: string[]): Promise<void> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new LabError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let contents: unknown;
  try {
    contents = JSON.parse(text);
  } catch (err) {
    throw new LabError(`${file} is not a metalab objective file: it is not JSON (${(err as Error).message})`);
  }
  const before = new Set((await lab.listObjectives()).map((o) => o.id));
  const stored = await lab.importObjective(contents, path.basename(file));
  process.stdout.write(`${before.has(stored.id) ? 'already stored as' : 'imported'} ${described(stored.id, stored)}\n`);
}

async function rename(lab: Lab, [text, name]: string[]): Promise<void> {
  // The name as the contract takes it (trimmed, no control characters), as the page's requests are checked.
  const parsed = labApiArgs.renameObjective.safeParse([objectiveId(text), name]);
  if (!parsed.success)
    throw new LabError(`the name ${JSON.stringify(name)} is refused: ${parsed.error.issues[0].message}`);
  const stored = await lab.renameObjective(...parsed.data);
  process.stdout.write(`renamed ${described(stored.id, stored)}\n`);
}

async function remove(lab: Lab, [text]: string[]): Promise<void> {
  const id = objectiveId(text);
  await lab.deleteObjective(id);
  process.stdout.write(`deleted objective ${id}\n`);
}
