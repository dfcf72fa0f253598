// `zolpidem` is a built-in scenario document (scenario-file/builtins.ts): `sleep` with the NE
// oscillation amplitude halved (Hauglund et al. 2025: about -50 %). Blood volume and CSF follow NE,
// so they halve too; for a given seed the hypnogram, NE cycle timing and micro-arousals are those
// of `sleep` (paired comparison). Zolpidem's faster sleep onset is not modelled.
export { ZOLPIDEM_NE_AMPLITUDE_SCALE } from '../scenario-file/builtins.ts';
