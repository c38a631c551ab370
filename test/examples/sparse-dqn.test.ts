import { mlp, SparseLinear, tensor } from '../../lib';
import { createRng } from '../../examples/common/random';
import { copyNetwork, DqnAgent, erkSparsities, pruningSteps, type AgentConfig } from '../../examples/sparse-dqn/agent';
import { CARTPOLE, CartPole, cartpoleDynamics } from '../../examples/sparse-dqn/cartpole';
import { configOf, DEFAULTS, OptionError, parseOptions, usage } from '../../examples/sparse-dqn/options';
import { ReplayBuffer } from '../../examples/sparse-dqn/replay';
import { finalReturn, meanCi, smoothedReturns, summarize, tQuantile975 } from '../../examples/sparse-dqn/report';
import { epsilonAt, gradientStepsOf, runDqn, type DqnConfig } from '../../examples/sparse-dqn/train';

describe('examples: CartPole-v1 dynamics', () => {
  it('takes one Euler step from rest exactly as the classic-control equations give', () => {
    // Push right from the upright rest state: sin = 0, cos = 1, so
    // temp = F / (mc + mp) = 100/11, thetaAcc = -temp / (l (4/3 - mp/(mc + mp))) = -600/41,
    // xAcc = temp - mp l thetaAcc / (mc + mp) = 4400/451.
    const s = new Float64Array(4);
    cartpoleDynamics(s, 1);
    expect(s[0]).toBe(0); // positions move with the old velocities (explicit Euler)
    expect(s[1]).toBeCloseTo((0.02 * 4400) / 451, 14);
    expect(s[2]).toBe(0);
    expect(s[3]).toBeCloseTo((0.02 * -600) / 41, 14);
    // The next step moves the positions by tau times those velocities.
    const v = [s[1], s[3]];
    cartpoleDynamics(s, 0);
    expect(s[0]).toBeCloseTo(0.02 * v[0], 14);
    expect(s[2]).toBeCloseTo(0.02 * v[1], 14);
    // Pushing left from rest mirrors pushing right.
    const left = new Float64Array(4);
    cartpoleDynamics(left, 0);
    expect(left[1]).toBeCloseTo((-0.02 * 4400) / 451, 14);
    expect(left[3]).toBeCloseTo((0.02 * 600) / 41, 14);
  });

  it('starts episodes from U(-0.05, 0.05) states that a seed fixes', () => {
    const a = new CartPole(7);
    const b = new CartPole(7);
    const c = new CartPole(8);
    const first = a.reset();
    expect(Array.from(b.reset())).toEqual(Array.from(first));
    expect(Array.from(c.reset())).not.toEqual(Array.from(first));
    for (let i = 0; i < 50; i++) for (const v of a.reset()) expect(Math.abs(v)).toBeLessThan(0.05);
  });

  it('terminates when the cart leaves |x| <= 2.4 or the pole leans past 12 degrees, with reward 1', () => {
    const env = new CartPole(0);
    env.reset();
    env.state.set([2.39, 1, 0, 0]); // x advances by 0.02 to 2.41
    const out = env.step(1);
    expect(out).toMatchObject({ reward: 1, terminated: true, truncated: false });
    expect(() => env.step(1)).toThrow(/call reset/);

    env.reset();
    env.state.set([0, 0, CARTPOLE.thetaThreshold - 0.001, 0.1]); // theta advances by 0.002
    expect(env.step(1).terminated).toBe(true);
    env.reset();
    env.state.set([0, 0, -(CARTPOLE.thetaThreshold - 0.001), 0]); // stays just inside
    expect(env.step(0).terminated).toBe(false);
    env.reset();
    env.state.set([-2.39, -1, 0, 0]);
    expect(env.step(0).terminated).toBe(true);
    expect(() => new CartPole(0).step(1)).toThrow(/reset/);
    const fresh = new CartPole(0);
    fresh.reset();
    expect(() => fresh.step(2)).toThrow(RangeError);
  });

  it('truncates after 500 steps (not terminated)', () => {
    const env = new CartPole(1);
    env.reset();
    for (let t = 1; t < 500; t++) {
      env.state.fill(0); // hold the pole upright
      const r = env.step(t % 2);
      expect(r.terminated || r.truncated).toBe(false);
    }
    env.state.fill(0);
    expect(env.step(0)).toMatchObject({ terminated: false, truncated: true });
    expect(env.elapsedSteps).toBe(500);
  });
});

describe('examples: replay buffer', () => {
  const obs = (i: number) => [i, i + 0.25, i + 0.5, i + 0.75];

  it('overwrites the oldest transition when full', () => {
    const buffer = new ReplayBuffer(3, 4);
    for (let i = 0; i < 5; i++) buffer.add(obs(i), i % 2, i * 10, obs(i + 100), i === 4);
    expect(buffer.size).toBe(3);
    // Slots 0 and 1 now hold transitions 3 and 4; slot 2 still holds transition 2.
    const b = buffer.gather(Int32Array.from([0, 1, 2]));
    expect(Array.from(b.rewards)).toEqual([30, 40, 20]);
    expect(Array.from(b.actions)).toEqual([1, 0, 0]);
    expect(Array.from(b.terminated)).toEqual([0, 1, 0]);
    expect(Array.from(b.observations)).toEqual([...obs(3), ...obs(4), ...obs(2)]);
    expect(Array.from(b.nextObservations)).toEqual([...obs(103), ...obs(104), ...obs(102)]);
    expect(() => buffer.add([1, 2], 0, 0, obs(0), false)).toThrow(RangeError);
  });

  it('samples uniformly, with a seed, only among the transitions it holds', () => {
    const buffer = new ReplayBuffer(100, 4);
    expect(() => buffer.sample(1, createRng(0))).toThrow(/empty/);
    for (let i = 0; i < 4; i++) buffer.add(obs(i), 0, i, obs(i), false);
    const a = buffer.sampleIndices(4000, createRng(5));
    const b = buffer.sampleIndices(4000, createRng(5));
    const c = buffer.sampleIndices(4000, createRng(6));
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    const counts = [0, 0, 0, 0];
    for (const i of a) counts[i]++; // an index >= 4 would make a NaN count
    for (const n of counts) expect(Math.abs(n - 1000)).toBeLessThan(120); // about 4 standard deviations
    const batch = buffer.sample(8, createRng(1));
    for (let k = 0; k < 8; k++) expect(batch.observations[4 * k]).toBe(batch.rewards[k]);
  });
});

const tinyAgent: AgentConfig = {
  method: 'rigl',
  sparsity: 0.9,
  hidden: [32, 32],
  seed: 3,
  device: 'cpu',
  lr: 1e-3,
  gamma: 0.99,
  loss: 'mse',
  targetEvery: 10,
  gradientSteps: 300,
  updateEvery: 20,
  dropFraction: 0.3,
  updateEnd: 0.75,
  pruneBegin: 0.2,
  pruneEnd: 0.75,
};

describe('examples: DQN agent', () => {
  it('copies a sparse network into a target with its pattern, and the copy is independent', () => {
    const a = mlp([4, 64, 64, 2], { sparsity: 0.9, seed: 1 });
    const b = mlp([4, 64, 64, 2], { sparsity: 0.9, seed: 2 });
    const x = tensor(Float32Array.from({ length: 4 * 5 }, (_, i) => Math.sin(i)), [4, 5]);
    try {
      copyNetwork(a, b);
      expect(Array.from(b.forward(x).toArray())).toEqual(Array.from(a.forward(x).toArray()));
      const sa = a.sparseLayers()[0];
      const sb = b.sparseLayers()[0];
      expect(sa).toBeInstanceOf(SparseLinear);
      expect(Array.from(sb.weight.colIdx())).toEqual(Array.from(sa.weight.colIdx()));
      expect(sb.weight).not.toBe(sa.weight);
      const before = Array.from(b.forward(x).toArray());
      a.dispose(); // the copy owns its buffers
      expect(Array.from(b.forward(x).toArray())).toEqual(before);
    } finally {
      x.dispose();
      b.dispose();
    }
  });

  it('learns on minibatches: finite loss, the online network moves, the target follows every targetEvery steps', () => {
    const agent = new DqnAgent({ ...tinyAgent, targetEvery: 3 });
    const buffer = new ReplayBuffer(64, 4);
    const rng = createRng(0);
    for (let i = 0; i < 64; i++) buffer.add([rng.next(), rng.next(), rng.next(), rng.next()], i % 2, 1, [rng.next(), 0, 0, 0], i % 7 === 0);
    const probe = tensor(new Float32Array([0.1, -0.2, 0.03, 0.4]), [4, 1], { device: tinyAgent.device });
    const q = (net: typeof agent.online) => Array.from(net.forward(probe).toArray());
    try {
      expect(q(agent.target)).toEqual(q(agent.online));
      const nnz = agent.layerNnz();
      for (let i = 1; i <= 6; i++) {
        const r = agent.learn(buffer.sample(16, rng));
        expect(Number.isFinite(r.loss)).toBe(true);
        expect(Number.isFinite(r.meanQ)).toBe(true);
        if (i % 3 === 0) expect(q(agent.target)).toEqual(q(agent.online));
        else expect(q(agent.target)).not.toEqual(q(agent.online));
      }
      expect(agent.gradientSteps).toBe(6);
      expect(agent.layerNnz()).toEqual(nnz);
      expect([0, 1]).toContain(agent.greedyAction(new Float32Array(4)));
    } finally {
      probe.dispose();
      agent.dispose();
    }
  });

  it('runs a few hundred steps of RigL DQN: episodes, topology updates at a constant nnz, finite losses', async () => {
    const config: DqnConfig = {
      ...tinyAgent,
      steps: 400,
      batchSize: 16,
      bufferSize: 1000,
      learningStarts: 100,
      trainEvery: 1,
      epsilonStart: 1,
      epsilonEnd: 0.05,
      epsilonDecay: 0.5,
    };
    expect(gradientStepsOf(config)).toBe(300);
    const r = await runDqn('rigl', 0, config);
    expect(r.gradientSteps).toBe(300);
    expect(r.episodeReturns.length).toBeGreaterThan(3);
    expect(r.episodeReturns.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(400);
    expect(r.episodeEnds[r.episodeEnds.length - 1]).toBeLessThanOrEqual(400);
    // Update steps every 20 gradient steps from 20 to 0.75 * 300 = 225: 11 of them; the late
    // ones may drop nothing (floor(nnz x the cosine-annealed fraction) reaches 0 in this tiny network).
    expect(r.topologyUpdates).toBeGreaterThanOrEqual(5);
    expect(r.topologyUpdates).toBeLessThanOrEqual(11);
    const dense = mlp([4, 32, 32, 2]);
    const erkNnz = erkSparsities([32, 32], 0.9).map((s, i) => Math.round((1 - s) * [128, 1024, 64][i]));
    dense.dispose();
    expect(r.layerNnz).toEqual(erkNnz);
    expect(r.loss.length).toBe(100);
    for (const l of r.loss) expect(Number.isFinite(l)).toBe(true);
    // Deterministic on the CPU for a seed.
    const again = await runDqn('rigl', 0, config);
    expect(again.episodeReturns).toEqual(r.episodeReturns);
  });

  it('prunes from dense to the ERK nnz of each layer by the end of the pruning schedule', async () => {
    const config: DqnConfig = { ...tinyAgent, steps: 300, batchSize: 8, bufferSize: 500, learningStarts: 100, trainEvery: 1, epsilonStart: 1, epsilonEnd: 0.1, epsilonDecay: 0.5 };
    const r = await runDqn('pruning', 1, config);
    const sizes = [4 * 32, 32 * 32, 32 * 2];
    const targets = erkSparsities([32, 32], 0.9);
    expect(r.layerNnz).toEqual(sizes.map((n, i) => Math.round(n * (1 - targets[i]))));
    expect(r.topologyUpdates).toBeGreaterThan(0);
  });

  it('refuses an update period that would leave SET/RigL or pruning without a topology change', () => {
    // 300 gradient steps: SET/RigL may update to step 225, so at most 75 steps apart.
    for (const method of ['set', 'rigl'] as const) {
      expect(() => new DqnAgent({ ...tinyAgent, method, updateEvery: 76 })).toThrow(/DqnAgent: updateEvery: expected at most 75 with 300 gradient steps, got 76/);
      new DqnAgent({ ...tinyAgent, method, updateEvery: 75 }).dispose();
    }
    // Pruning from step 60 must reach its final sparsity before the run ends.
    expect(pruningSteps({ ...tinyAgent, updateEvery: 239 })).toEqual({ beginStep: 60, endStep: 299 });
    new DqnAgent({ ...tinyAgent, method: 'pruning', updateEvery: 239 }).dispose();
    expect(() => new DqnAgent({ ...tinyAgent, method: 'pruning', updateEvery: 240 })).toThrow(/expected at most 239 with 300 gradient steps, got 240: magnitude pruning would reach its final sparsity at gradient step 300/);
    // Dense and Static have no schedule.
    new DqnAgent({ ...tinyAgent, method: 'static', updateEvery: 10000 }).dispose();
  });

  it('counts the gradient steps of a run', () => {
    const brute = (steps: number, learningStarts: number, trainEvery: number) => {
      let n = 0;
      for (let t = 1; t <= steps; t++) if (t > learningStarts && t % trainEvery === 0) n++;
      return n;
    };
    for (const [steps, learningStarts, trainEvery] of [[15000, 1000, 2], [100000, 1000, 1], [1001, 1000, 2], [1003, 1000, 3], [999, 1000, 1], [40, 8, 1], [17, 0, 4]]) {
      expect(gradientStepsOf({ steps, learningStarts, trainEvery })).toBe(brute(steps, learningStarts, trainEvery));
    }
  });

  it('decays epsilon linearly after random warm-up steps', () => {
    const c = { steps: 1000, learningStarts: 100, epsilonStart: 1, epsilonEnd: 0.1, epsilonDecay: 0.5 };
    expect(epsilonAt(0, c)).toBe(1);
    expect(epsilonAt(250, c)).toBeCloseTo(0.55, 12);
    expect(epsilonAt(500, c)).toBeCloseTo(0.1, 12);
    expect(epsilonAt(999, c)).toBeCloseTo(0.1, 12);
  });
});

describe('examples: sparse DQN report and options', () => {
  it('computes a Student-t 95% interval across seeds', () => {
    const { mean, halfWidth } = meanCi([1, 2, 3]);
    expect(mean).toBe(2);
    expect(halfWidth).toBeCloseTo(4.303 / Math.sqrt(3), 10);
    expect(tQuantile975(1)).toBe(12.706);
    expect(tQuantile975(60)).toBeCloseTo(2.0003, 3);
    expect(tQuantile975(1000)).toBeCloseTo(1.9623, 3);
    expect(Number.isNaN(meanCi([5]).halfWidth)).toBe(true);
  });

  it('averages the last 10% of episodes and smooths returns over the last 10 episodes', () => {
    const run = { episodeReturns: Array.from({ length: 20 }, (_, i) => i + 1), episodeEnds: Array.from({ length: 20 }, (_, i) => 10 * (i + 1)) };
    expect(finalReturn(run)).toBe(19.5); // episodes 19 and 20
    expect(finalReturn({ episodeReturns: [7] })).toBe(7);
    const s = smoothedReturns(run, [5, 10, 35, 200]);
    expect(Number.isNaN(s[0])).toBe(true);
    expect(s.slice(1)).toEqual([1, 2, 15.5]);
    const base = { sparsity: 0, parameters: 10, layerNnz: [], gradientSteps: 1, topologyUpdates: 0, loss: [], seconds: 2, episodeEnds: [1] };
    const [dense] = summarize([
      { ...base, method: 'dense', seed: 0, episodeReturns: [100] },
      { ...base, method: 'dense', seed: 1, episodeReturns: [200] },
    ]);
    expect(dense).toMatchObject({ method: 'dense', seeds: 2, finalReturn: 150, perSeed: [100, 200], seconds: 2 });
    expect(dense.ci).toBeCloseTo((12.706 * Math.sqrt(5000)) / Math.sqrt(2), 6);
  });

  it('parses the options and rejects bad ones', () => {
    const o = parseOptions([]);
    expect(o).toMatchObject({ steps: DEFAULTS.steps, seeds: 3, methods: ['dense', 'static', 'set', 'rigl', 'pruning'], sparsity: 0.9, device: undefined });
    const p = parseOptions(['--steps', '5000', '--seeds', '2', '--methods', 'RigL,dense', '--sparsity', '0.8', '--device', 'cpu', '--out', '/tmp/x', '--lr', '0.001', '--train-every', '1']);
    expect(p).toMatchObject({ steps: 5000, seeds: 2, methods: ['rigl', 'dense'], sparsity: 0.8, device: 'cpu', out: '/tmp/x', lr: 0.001, trainEvery: 1 });
    expect(configOf(p, 'cpu')).toMatchObject({ steps: 5000, sparsity: 0.8, hidden: [512, 512], lr: 0.001, trainEvery: 1 });
    for (const argv of [['--steps', '0'], ['--steps', '900'], ['--sparsity', '1'], ['--methods', 'rigl,snip'], ['--methods', 'set,set'], ['--device', 'gpu'], ['--frobnicate'], ['--drop-fraction', '2']]) {
      expect(() => parseOptions(argv)).toThrow(OptionError);
    }
  });

  it('rejects an update period too long for the run, naming it and the gradient steps', () => {
    // Defaults: 7,000 gradient steps, SET/RigL updates up to step 5,250.
    expect(parseOptions(['--update-every', '1750']).updateEvery).toBe(1750);
    const counted = '7000 gradient steps (one every 2 of the 15000 environment steps after the first 1000)';
    expect(() => parseOptions(['--update-every', '1751'])).toThrow(OptionError);
    expect(() => parseOptions(['--update-every', '6000'])).toThrow(`--update-every: expected at most 1750 with ${counted}, got 6000`);
    expect(() => parseOptions(['--update-every', '6000', '--methods', 'rigl'])).toThrow(/expected at most 1750/);
    // Pruning alone: its schedule (20% to 75%, whole periods) must end within the run.
    expect(parseOptions(['--update-every', '5599', '--methods', 'pruning']).updateEvery).toBe(5599);
    expect(() => parseOptions(['--update-every', '5600', '--methods', 'pruning'])).toThrow(`--update-every: expected at most 5599 with ${counted}, got 5600: magnitude pruning would reach its final sparsity at gradient step 7000`);
    // Dense and Static have no schedule.
    expect(parseOptions(['--update-every', '100000', '--methods', 'dense,static']).updateEvery).toBe(100000);
    // The paper-like command of --help passes.
    expect(parseOptions(['--steps', '100000', '--train-every', '1', '--update-every', '1000', '--seeds', '5']).steps).toBe(100000);
  });

  it('says in --help how much longer the paper-like run is', () => {
    const text = usage();
    expect(text).toContain('99,000 gradient steps per run against 7,000');
    expect(text).toContain('about 14 times as long per run');
    expect(text).toContain('about\n24 times the default');
    expect(text).toContain('at most E / 3 (with the defaults\n                      1,750 of 7,000)');
    expect(text).toContain('--steps 100000 --train-every 1 --update-every 1000 --seeds 5');
  });
});
