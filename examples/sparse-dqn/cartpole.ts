/**
 * CartPole-v1, the classic-control task of OpenAI Gym / Gymnasium
 * (`gymnasium/envs/classic_control/cartpole.py`), written out in TypeScript so
 * the example needs nothing but Node.js.
 *
 * A pole is hinged on a cart that moves along a frictionless track; each step
 * the agent pushes the cart left (action 0) or right (action 1) with a force of
 * 10 N. The reward is 1 for every step, the terminating one included. An
 * episode terminates when the cart leaves |x| <= 2.4 or the pole leans more
 * than 12 degrees, and is truncated after 500 steps (Gymnasium's TimeLimit for
 * v1), so returns lie in [1, 500].
 *
 * The dynamics are Gymnasium's to the letter: the equations of Florian (2007,
 * "Correct equations for the dynamics of the cart-pole system") with the same
 * constants and explicit Euler integration with tau = 0.02 s. The state is
 * kept in float64 as Gymnasium keeps it; observations are float32 copies.
 */
import { createRng, type Rng } from '../common/random';

/** The physical constants of CartPole-v1. */
export const CARTPOLE = {
  gravity: 9.8,
  massCart: 1.0,
  massPole: 0.1,
  /** Half the pole's length (Gymnasium's `length`). */
  halfLength: 0.5,
  forceMag: 10.0,
  /** Seconds between state updates. */
  tau: 0.02,
  /** Termination beyond this cart position. */
  xThreshold: 2.4,
  /** Termination beyond this pole angle: 12 degrees in radians. */
  thetaThreshold: (12 * 2 * Math.PI) / 360,
  /** Episodes are truncated after this many steps (CartPole-v1's TimeLimit). */
  maxSteps: 500,
} as const;

/** Observation size and number of actions. */
export const OBSERVATION_SIZE = 4;
export const ACTIONS = 2;

/** What {@link CartPole.step} returns. */
export interface StepResult {
  /** The observation after the step: [x, xDot, theta, thetaDot]. */
  observation: Float32Array;
  /** Always 1. */
  reward: number;
  /** The pole fell or the cart left the track: the episode ends and the value of the next state is 0. */
  terminated: boolean;
  /** The 500-step limit was reached without termination: the episode ends but the next state still has a value. */
  truncated: boolean;
}

/**
 * One CartPole-v1 environment. `reset()` starts an episode with every state
 * variable drawn from U(-0.05, 0.05) by the environment's own seeded generator,
 * so a seed fixes the sequence of initial states.
 */
export class CartPole {
  /** [x, xDot, theta, thetaDot] in float64. */
  readonly state = new Float64Array(4);
  private readonly rng: Rng;
  private steps = 0;
  private done = true;

  constructor(seed: number) {
    this.rng = createRng(seed);
  }

  /** Starts a new episode; returns its first observation. */
  reset(): Float32Array {
    for (let i = 0; i < 4; i++) this.state[i] = -0.05 + 0.1 * this.rng.next();
    this.steps = 0;
    this.done = false;
    return Float32Array.from(this.state);
  }

  /** Steps in the current episode so far. */
  get elapsedSteps(): number {
    return this.steps;
  }

  /** Applies action 0 (push left) or 1 (push right) for tau seconds. */
  step(action: number): StepResult {
    if (this.done) throw new Error('CartPole.step: the episode has ended; call reset() first');
    if (action !== 0 && action !== 1) throw new RangeError(`CartPole.step: action must be 0 or 1, got ${action}`);
    cartpoleDynamics(this.state, action);
    this.steps += 1;
    const [x, , theta] = this.state;
    const terminated = x < -CARTPOLE.xThreshold || x > CARTPOLE.xThreshold || theta < -CARTPOLE.thetaThreshold || theta > CARTPOLE.thetaThreshold;
    const truncated = !terminated && this.steps >= CARTPOLE.maxSteps;
    this.done = terminated || truncated;
    return { observation: Float32Array.from(this.state), reward: 1, terminated, truncated };
  }
}

/**
 * One Euler step of the cart-pole equations, in place on `state`
 * ([x, xDot, theta, thetaDot]), exactly as Gymnasium's `CartPoleEnv.step`
 * computes it with `kinematics_integrator = "euler"`: the positions advance
 * with the old velocities, the velocities with the accelerations at the old state.
 */
export function cartpoleDynamics(state: Float64Array, action: number): void {
  const { gravity, massCart, massPole, halfLength, forceMag, tau } = CARTPOLE;
  const totalMass = massPole + massCart;
  const poleMassLength = massPole * halfLength;
  const [x, xDot, theta, thetaDot] = state;
  const force = action === 1 ? forceMag : -forceMag;
  const cos = Math.cos(theta);
  const sin = Math.sin(theta);
  const temp = (force + poleMassLength * thetaDot * thetaDot * sin) / totalMass;
  const thetaAcc = (gravity * sin - cos * temp) / (halfLength * (4.0 / 3.0 - (massPole * cos * cos) / totalMass));
  const xAcc = temp - (poleMassLength * thetaAcc * cos) / totalMass;
  state[0] = x + tau * xDot;
  state[1] = xDot + tau * xAcc;
  state[2] = theta + tau * thetaDot;
  state[3] = thetaDot + tau * thetaAcc;
}
