/**
 * When SET and RigL update masks in the examples, and the longest update
 * period that still moves connections.
 *
 * The MNIST demo and the sparse DQN build SET and RigL with
 * `beginStep = updateEvery` and `endStep = floor(updateEnd × total steps)`
 * (0.75: no update in the last quarter of training), so a period N gives
 * updates at steps N, 2N, ... up to endStep. The library anneals the drop
 * fraction as the RigL reference does, on the raw step:
 *
 *     f(step) = f0 (1 + cos(π · min(step, T) / T)) / 2,   T = endStep − N
 *
 * which is 0 from step endStep − N on. So for N > endStep there is no update
 * step at all, for endStep / 2 <= N < endStep every update would drop nothing
 * (SET and RigL would be Static, or the library refuses the schedule), and
 * N = endStep gives a single update at the full f0 at 75% of training. The
 * examples ask for 3N <= endStep: the first update then comes at most a third
 * of the way into the update window and drops at least f0 / 2.
 */

/** The last step at which SET/RigL may update masks: `floor(updateEnd × totalSteps)`. */
export function maskUpdateEnd(totalSteps: number, updateEnd: number): number {
  return Math.floor(updateEnd * totalSteps);
}

/** The longest update period the examples accept for a run of `totalSteps` steps (0 when the run is too short for any). */
export function longestUpdatePeriod(totalSteps: number, updateEnd: number): number {
  return Math.floor(maskUpdateEnd(totalSteps, updateEnd) / 3);
}

/**
 * Why `updateEvery` is too long for a run of `totalSteps` steps, or null when
 * it is not; `counted` describes the steps, e.g. "250 training steps (2
 * epochs of 125 batches of 64)". The caller puts the option's name in front.
 */
export function updatePeriodProblem(updateEvery: number, totalSteps: number, updateEnd: number, counted: string): string | null {
  const limit = longestUpdatePeriod(totalSteps, updateEnd);
  if (updateEvery <= limit) return null;
  const end = maskUpdateEnd(totalSteps, updateEnd);
  const percent = `${Number((updateEnd * 100).toFixed(2))}%`;
  const why =
    `mask updates run from step N to ${percent} of training (step ${end}) with a drop fraction that reaches 0 at step ${end} - N, ` +
    `so N must be at most ${end} / 3 for SET and RigL to move connections`;
  if (limit === 0) return `${counted} are too few for any mask update period: ${why}`;
  return `expected at most ${limit} with ${counted}, got ${updateEvery}: ${why}`;
}
