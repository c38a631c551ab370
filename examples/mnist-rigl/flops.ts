/**
 * Training FLOPs, counted analytically as the RigL paper does (Evci et al.,
 * 2020, "Rigging the Lottery", appendix on FLOPs), so methods can be compared
 * independently of how fast this machine runs each kernel.
 *
 * Per sample, a layer with `nnz` stored weights costs f = 2 * nnz FLOPs
 * forward (one multiply and one add per weight). Backward costs twice that:
 * the input gradient (W^T dY) and the weight gradient (dY X^T, only at stored
 * positions for a sparse layer, with SDDMM), so one training step costs
 * 3 * f_S per sample for a sparse network and 3 * f_D for the dense one.
 *
 * RigL additionally needs the DENSE weight gradient at every mask-update step
 * to pick the connections to grow; the paper counts such a step as
 * 2 * f_S + f_D instead of 3 * f_S, i.e. f_D - f_S more. Over a run with
 * `steps` steps of which `denseGradientSteps` were RigL updates:
 *
 *     FLOPs = batch * (3 * f_S * steps + (f_D - f_S) * denseGradientSteps)
 *
 * SET's random growth and every method's magnitude-based drop cost O(nnz) per
 * update and are ignored, as are biases, activations and the loss (a few
 * FLOPs per unit, negligible next to the weights). Evaluation is not training
 * and is not counted.
 */

/** A linear layer's size and how many of its weights are stored. */
export interface LayerCount {
  inFeatures: number;
  outFeatures: number;
  /** Stored weights; inFeatures * outFeatures for a dense layer. */
  nnz: number;
}

/** Forward FLOPs of one sample through the layers as stored (2 per weight). */
export function forwardFlops(layers: readonly LayerCount[]): number {
  return layers.reduce((sum, l) => sum + 2 * l.nnz, 0);
}

/** Forward FLOPs of one sample through the same layers if they were dense. */
export function denseForwardFlops(layers: readonly LayerCount[]): number {
  return layers.reduce((sum, l) => sum + 2 * l.inFeatures * l.outFeatures, 0);
}

/** What a run did, for {@link trainingFlops}. */
export interface RunCount {
  layers: readonly LayerCount[];
  steps: number;
  batchSize: number;
  /** Steps at which the dense weight gradient was computed (RigL's mask updates); 0 otherwise. */
  denseGradientSteps?: number;
}

/** Total training FLOPs of a run (see the file comment for the model). */
export function trainingFlops(run: RunCount): number {
  const fS = forwardFlops(run.layers);
  const fD = denseForwardFlops(run.layers);
  const extra = run.denseGradientSteps ?? 0;
  if (extra < 0 || extra > run.steps) {
    throw new RangeError(`trainingFlops: denseGradientSteps must be in [0, ${run.steps}], got ${extra}`);
  }
  return run.batchSize * (3 * fS * run.steps + (fD - fS) * extra);
}

/** Training FLOPs of a run divided by those of dense training for the same steps and batch size. */
export function relativeTrainingFlops(run: RunCount): number {
  const dense = run.batchSize * 3 * denseForwardFlops(run.layers) * run.steps;
  return dense === 0 ? 0 : trainingFlops(run) / dense;
}
