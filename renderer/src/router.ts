import { createRouter, createWebHashHistory } from 'vue-router';
import ClusterView from './views/ClusterView.vue';
import CompareView from './views/CompareView.vue';
import DesignView from './views/DesignView.vue';
import NotFoundView from './views/NotFoundView.vue';
import ObjectivesView from './views/ObjectivesView.vue';
import PhasesView from './views/PhasesView.vue';
import RunDetailView from './views/RunDetailView.vue';
import RunsView from './views/RunsView.vue';

// Hash history: the page is loaded from file:// in Electron, where paths cannot be routed.
export const router = createRouter({
  history: createWebHashHistory(),
  routes: [
    { path: '/', redirect: '/runs' },
    { path: '/design', component: DesignView, meta: { title: 'Design' } },
    { path: '/runs', component: RunsView, meta: { title: 'Runs' } },
    { path: '/runs/:id(\\d+)', component: RunDetailView, props: (r) => ({ id: Number(r.params.id) }) },
    { path: '/compare', component: CompareView, meta: { title: 'Compare' } },
    { path: '/cluster', component: ClusterView, meta: { title: 'SLURM cluster' } },
    { path: '/phases', component: PhasesView, meta: { title: 'Phases' } },
    {
      path: '/objectives/:id?',
      component: ObjectivesView,
      props: (r) => ({ id: r.params.id ? Number(r.params.id) : null }),
      meta: { title: 'Objectives' },
    },
    { path: '/:unknown(.*)*', component: NotFoundView, meta: { title: 'Not found' } },
  ],
});
