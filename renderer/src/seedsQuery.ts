// Whether a sweep over seeds is drawn aggregated (each point's mean ± s.e.) or as single runs, kept in the address
// (`seeds=runs`) beside the view's other query fields, so that a link or a reload shows what was shown.
import { ref, watch, type Ref } from 'vue';
import { useRoute, useRouter } from 'vue-router';

export function useSeedsAggregated(): Ref<boolean> {
  const route = useRoute();
  const router = useRouter();
  const aggregated = ref(route.query.seeds !== 'runs');
  watch(aggregated, (on) => {
    const { seeds: _, ...rest } = route.query;
    void router.replace({ query: on ? rest : { ...rest, seeds: 'runs' } });
  });
  watch(
    () => route.query.seeds,
    (q) => {
      aggregated.value = q !== 'runs';
    },
  );
  return aggregated;
}
