// The page's state: the lab's info, experiments and runs, kept current by the lab's pushed events.
import { defineStore } from 'pinia';
import { markRaw, ref, shallowRef, watch } from 'vue';
import type { DatasetInfo, Experiment, LabApi, LabEvent, LabInfo, Run } from '../../../shared/api';
import type { ClusterProfile } from '../../../shared/cluster';
import type { StoredObjective } from '../../../shared/learnedObjective';
import { isEvalKey } from '../../../shared/metrics';
import type { HostConnector } from '../host/types';

const RECONNECT_MS = 2000;

export interface LiveProgress {
  etaSeconds: number | null;
  examplesPerSec: number | null;
}

export const useLab = defineStore('lab', () => {
  const api = shallowRef<LabApi | null>(null);
  const info = ref<LabInfo | null>(null);
  const experiments = ref<Experiment[]>([]);
  const runs = ref<Run[]>([]);
  const live = ref<Record<number, LiveProgress>>({});
  /** Last metric step seen per run, so open charts know when to refetch. */
  const metricsTick = ref<Record<number, number>>({});
  const disconnected = ref<string | null>(null);
  /** Datasets specs can name (built-in and imported), for the designer. */
  const datasets = ref<DatasetInfo[]>([]);
  /** The designer's JSON text, kept while the page moves between views and across reloads (this browser's storage). */
  const designDraft = ref<string | null>(readDraft());
  watch(designDraft, writeDraft);
  /** Last step at which each run recorded evaluation figures, so views showing them know when to refetch. */
  const evalTick = ref<Record<number, number>>({});
  /** Learned objectives kept in the lab (newest first), and why they could not be listed. */
  const objectives = ref<StoredObjective[]>([]);
  const objectivesError = ref<string | null>(null);
  /** The lab's SLURM cluster profile (null until loaded), and why it could not be read (a broken cluster.json). */
  const cluster = ref<ClusterProfile | null>(null);
  const clusterError = ref<string | null>(null);
  let refreshTimer: ReturnType<typeof setTimeout> | null = null;

  async function loadCluster(): Promise<void> {
    if (!api.value) return;
    try {
      cluster.value = await api.value.getClusterProfile();
      clusterError.value = null;
    } catch (err) {
      cluster.value = null;
      clusterError.value = (err as Error).message;
    }
  }

  async function loadObjectives(): Promise<void> {
    if (!api.value) return;
    try {
      objectives.value = await api.value.listObjectives();
      objectivesError.value = null;
    } catch (err) {
      objectivesError.value = (err as Error).message;
    }
  }

  async function refresh(): Promise<void> {
    if (!api.value) return;
    const [e, r] = await Promise.all([api.value.listExperiments(), api.value.listRuns(), loadObjectives()]);
    experiments.value = e;
    runs.value = r;
  }

  function scheduleRefresh(): void {
    if (refreshTimer) return;
    refreshTimer = setTimeout(() => {
      refreshTimer = null;
      void refresh();
    }, 150);
  }

  function handle(event: LabEvent): void {
    switch (event.type) {
      case 'run-progress': {
        const run = runs.value.find((r) => r.id === event.runId);
        if (run) {
          run.step = event.step;
          run.examplesPerSec = event.examplesPerSec;
        }
        live.value[event.runId] = { etaSeconds: event.etaSeconds, examplesPerSec: event.examplesPerSec };
        break;
      }
      case 'metrics-appended':
        metricsTick.value[event.runId] = event.lastStep;
        if (event.keys.some(isEvalKey)) {
          evalTick.value[event.runId] = event.lastStep;
          // A MetaGenRL run stores its objective as meta-trained so far at each evaluation.
          const run = runs.value.find((r) => r.id === event.runId);
          if (run?.spec.task.family === 'rl' && run.spec.task.algorithm.kind === 'metagenrl') scheduleRefresh();
        }
        break;
      case 'run-state':
        if (event.status !== 'running' && event.status !== 'stalled') delete live.value[event.runId];
        scheduleRefresh();
        break;
      case 'experiment-changed':
      case 'store-changed':
        scheduleRefresh();
        break;
    }
  }

  /**
   * Connects through `connector`, and again whenever the connection is lost or cannot be made (a restarted
   * host answers at the same address), every RECONNECT_MS until it answers.
   */
  async function connect(connector: HostConnector): Promise<void> {
    const retry = (reason: string) => {
      disconnected.value = `${reason}; reconnecting…`;
      setTimeout(() => void connect(connector), RECONNECT_MS);
    };
    try {
      const connection = await connector();
      connection.onEvent(handle);
      connection.onClose(retry);
      info.value = await connection.api.getInfo();
      api.value = markRaw(connection.api);
      disconnected.value = null;
      await refresh();
    } catch (err) {
      retry((err as Error).message);
    }
  }

  async function loadDatasets(): Promise<void> {
    if (api.value) datasets.value = await api.value.listDatasets();
  }

  function requireApi(): LabApi {
    if (!api.value) throw new Error('not connected to the lab');
    return api.value;
  }

  return {
    api,
    info,
    experiments,
    runs,
    live,
    metricsTick,
    evalTick,
    disconnected,
    datasets,
    designDraft,
    objectives,
    objectivesError,
    cluster,
    clusterError,
    connect,
    refresh,
    loadObjectives,
    loadCluster,
    loadDatasets,
    requireApi,
  };
});

const DRAFT_KEY = 'metalab.designDraft';

/** The saved draft, or null where the page may not use storage (it then lives only as long as the page). */
function readDraft(): string | null {
  try {
    return localStorage.getItem(DRAFT_KEY);
  } catch {
    return null;
  }
}

function writeDraft(text: string | null): void {
  try {
    if (text === null) localStorage.removeItem(DRAFT_KEY);
    else localStorage.setItem(DRAFT_KEY, text);
  } catch {
    // storage full or refused: the draft still lives in the page
  }
}
