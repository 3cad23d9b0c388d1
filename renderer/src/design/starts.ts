// Specs the designer can start from: the paper presets (presets/*.json) and the small examples (examples/*.json),
// bundled into the page at build time.

export interface Start {
  /** The file's base name: what `?preset=` and the "Start from" list use. */
  id: string;
  group: 'Paper presets' | 'Examples';
  label: string;
  description: string;
  spec: Record<string, unknown>;
}

const presets = import.meta.glob<Record<string, unknown>>('../../../presets/*.json', {
  eager: true,
  import: 'default',
});
const examples = import.meta.glob<Record<string, unknown>>('../../../examples/*.json', {
  eager: true,
  import: 'default',
});

function list(files: Record<string, Record<string, unknown>>, group: Start['group']): Start[] {
  return Object.entries(files)
    .map(([file, spec]) => {
      const id = file
        .split('/')
        .pop()!
        .replace(/\.json$/, '');
      const name = typeof spec.name === 'string' ? spec.name : id;
      return {
        id,
        group,
        label: group === 'Examples' ? id : name,
        description: typeof spec.description === 'string' ? spec.description : name,
        spec,
      };
    })
    .sort((a, b) => a.label.localeCompare(b.label));
}

export const STARTS: Start[] = [...list(presets, 'Paper presets'), ...list(examples, 'Examples')];

/** What a first visit to the designer shows: the flagship experiment, the GPICL phase transition. */
export const DEFAULT_START = 'gpicl-phase-transition';

/** The hand-designed spec a meta-test of a learned objective starts from (its agent settings and budget). */
export const META_TEST_BASE = 'td3-pendulum';
