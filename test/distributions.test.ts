import { erdosRenyi, erk, LayerSparsity, sparsityDistribution, uniform } from '../lib';

// Expected values below are derived by hand from the reference's definitions
// (google-research/rigl sparse_utils.get_sparsities_erdos_renyi):
//   zeros_i = floor(s * size_i), budget U = Σ (size_i - zeros_i)
//   ERK raw_i = Σ shape_i / Π shape_i, so eps * raw_i * size_i = rhs * Σshape_i / Σ_rest Σshape_j
//   ER  raw_i = (in + out) / (in * out) over the last two dims, so raw_i * size_i = kh*kw*(in + out)
//   rhs = U - Σ_overflow size_i; nnz = floor(target) + largest remainders.
// The real-valued targets were cross-checked with a numpy transcription of the reference.

const lenet = [
  { name: 'fc1', shape: [784, 300] },
  { name: 'fc2', shape: [300, 100] },
  { name: 'fc3', shape: [100, 10] },
];
const dqn = [
  { name: 'fc1', shape: [4, 512] },
  { name: 'fc2', shape: [512, 512] },
  { name: 'fc3', shape: [512, 2] },
];
const convNet = [
  { name: 'conv', shape: [3, 3, 64, 128] },
  { name: 'head', shape: [128, 10] },
];
const convNet3 = [
  { name: 'conv1', shape: [3, 3, 3, 64] },
  { name: 'conv2', shape: [3, 3, 64, 128] },
  { name: 'head', shape: [128, 10] },
];

const nnzOf = (r: LayerSparsity[]) => r.map((l) => l.nnz);
const total = (r: LayerSparsity[]) => r.reduce((a, l) => a + l.nnz, 0);

function expectConsistent(r: LayerSparsity[]) {
  for (const l of r) {
    expect(Number.isInteger(l.nnz)).toBe(true);
    expect(l.nnz).toBeGreaterThanOrEqual(0);
    expect(l.nnz).toBeLessThanOrEqual(l.size);
    expect(l.size).toBe(l.shape.reduce((a, b) => a * b, 1));
    expect(l.density).toBe(l.nnz / l.size);
    expect(l.sparsity).toBe(1 - l.nnz / l.size);
    expect(l.dense).toBe(l.nnz === l.size);
    // rounding never moves a layer more than one weight away from its real target
    expect(Math.abs(l.nnz - l.targetDensity * l.size)).toBeLessThan(1 + 1e-9);
  }
}

describe('uniform', () => {
  test('LeNet-300-100 at 90%: size - floor(0.9 size) per layer', () => {
    const r = uniform(lenet, 0.9);
    // 0.9*235200 = 211680, 0.9*30000 = 27000, 0.9*1000 = 900
    expect(nnzOf(r)).toEqual([23520, 3000, 100]);
    expect(r.map((l) => l.targetDensity)).toEqual([1 - 0.9, 1 - 0.9, 1 - 0.9]);
    expect(r.every((l) => !l.dense)).toBe(true);
    expectConsistent(r);
  });

  test('floors the zero count like the reference (0.9 * 2048 = 1843.2 -> 205 kept)', () => {
    // 1843, 235929 (0.9*262144 = 235929.6) and 921 (921.6) zeros
    expect(nnzOf(uniform(dqn, 0.9))).toEqual([2048 - 1843, 262144 - 235929, 1024 - 921]);
  });

  test('dense names keep every weight; never 0 kept for s < 1', () => {
    const r = uniform(lenet, 0.9999, { dense: ['fc3'] });
    // 0.9999*235200 = 235176.48 -> 24 kept; 0.9999*30000 = 29997 (exactly, in float64) -> 3 kept
    expect(r[0].nnz).toBe(24);
    expect(r[1].nnz).toBe(3);
    expect(r[2]).toMatchObject({ nnz: 1000, dense: true, targetDensity: 1 });
    expectConsistent(r);
  });

  test('sparsity 0 keeps everything', () => {
    expect(uniform(lenet, 0).every((l) => l.dense)).toBe(true);
  });
});

describe('erk on real shapes (hand-computed)', () => {
  test('LeNet-300-100 at 90%: fc3 overflows to dense', () => {
    // U = 23520 + 3000 + 100 = 26620; Σshape = 1084, 400, 110 (Σ 1594)
    // first eps = 26620 / 1594 = 16.70; fc3: 0.11 * 16.70 = 1.84 > 1 -> dense
    // rhs = 26620 - 1000 = 25620 over Σshape 1084 + 400 = 1484:
    //   fc1 = 25620*1084/1484 = 18714.3396, fc2 = 25620*400/1484 = 6905.6604
    //   floors 18714 + 6905 = 25619, one unit left -> fc2 (.66 > .34)
    const r = erk(lenet, 0.9);
    expect(nnzOf(r)).toEqual([18714, 6906, 1000]);
    expect(r.map((l) => l.dense)).toEqual([false, false, true]);
    expect(r[0].targetDensity).toBeCloseTo((25620 * 1084) / 1484 / 235200, 14); // 0.0795677705044282
    expect(r[1].targetDensity).toBeCloseTo((25620 * 400) / 1484 / 30000, 14); // 0.23018867924528305
    expect(r[2].targetDensity).toBe(1);
    expect(total(r)).toBe(26620);
    expectConsistent(r);
  });

  test('LeNet-300-100 at 98%: no overflow', () => {
    // 0.98*235200 = 230496 -> 4704, 0.98*30000 = 29400 -> 600, 0.98*1000 = 980 -> 20; U = 5324
    // eps = 5324/1594 = 3.3400; fc3: 0.11*3.34 = 0.367 <= 1
    // targets 5324*1084/1594 = 3620.5872, 5324*400/1594 = 1336.0100, 5324*110/1594 = 367.4028
    // floors sum 5323, one unit -> fc1 (.587 is the largest fraction)
    const r = erk(lenet, 0.98);
    expect(nnzOf(r)).toEqual([3621, 1336, 367]);
    expect(r.every((l) => !l.dense)).toBe(true);
    expect(r[2].targetDensity).toBeCloseTo((5324 * 110) / 1594 / 1000, 14); // 0.3674027603513174
    expect(total(r)).toBe(5324);
    expectConsistent(r);
  });

  test('2 x 512 MLP (CartPole DQN) at 90%: both thin layers overflow', () => {
    // kept: 205, 26215, 103 -> U = 26523; raw = 516/2048, 1024/262144, 514/1024
    // iter 1: eps = 26523 / (516 + 1024 + 514) = 12.91; fc3 0.502 * 12.91 > 1 -> dense
    // iter 2: rhs = 26215 + 205 - 921 = 25499, eps = 25499/1540 = 16.56; fc1 0.252 * 16.56 > 1 -> dense
    // iter 3: rhs = 26215 - 1843 - 921 = 23451 all in fc2 (density 23451/262144)
    const r = erk(dqn, 0.9);
    expect(nnzOf(r)).toEqual([2048, 23451, 1024]);
    expect(r.map((l) => l.dense)).toEqual([true, false, true]);
    expect(r[1].targetDensity).toBeCloseTo(23451 / 262144, 14);
    expect(total(r)).toBe(26523);
    expectConsistent(r);
  });

  test('4-D conv kernel [3,3,64,128] + [128,10] head at 90%', () => {
    // conv 73728 weights: 0.9*73728 = 66355.2 -> 7373 kept; head 1280: 1152 zeros -> 128 kept; U = 7501
    // ERK counts every dim: Σshape = 3+3+64+128 = 198 and 138
    // eps = 7501/336 = 22.32; head 138/1280*22.32 = 2.41 > 1 -> dense
    // rhs = 7373 - 1152 = 6221 all to conv (float gives 6221.000000000001; floor 6221, nothing left)
    const r = erk(convNet, 0.9);
    expect(nnzOf(r)).toEqual([6221, 1280]);
    expect(r.map((l) => l.dense)).toEqual([false, true]);
    expect(total(r)).toBe(7501);
    expectConsistent(r);
  });

  test('three-layer conv net at 98%: all sparse', () => {
    // kept: 1728-1693 = 35, 73728-72253 = 1475, 1280-1254 = 26 -> U = 1536
    // Σshape: 3+3+3+64 = 73, 198, 138 (Σ 409); eps = 1536/409 = 3.7555, max density head 0.405
    // targets 1536*73/409 = 274.1516, 1536*198/409 = 743.5892, 1536*138/409 = 518.2592
    // floors 274+743+518 = 1535, one unit -> conv2 (.589)
    const r = erk(convNet3, 0.98);
    expect(nnzOf(r)).toEqual([274, 744, 518]);
    expect(r[1].targetDensity).toBeCloseTo((1536 * 198) / 409 / 73728, 14); // 0.010085574572127139
    expect(total(r)).toBe(1536);
    expectConsistent(r);
  });
});

describe('erdosRenyi (last two dims only)', () => {
  test('equals erk on 2-D shapes', () => {
    for (const [layers, s] of [[lenet, 0.9], [lenet, 0.98], [dqn, 0.9]] as const) {
      expect(erdosRenyi(layers, s)).toEqual(erk(layers, s));
    }
  });

  test('4-D conv at 90%: uses in/out only, the head stays sparse', () => {
    // raw*size: conv 9*(64+128) = 1728, head 138; Σ 1866; eps = 7501/1866 = 4.0198
    // head density 0.1078*4.0198 = 0.433 <= 1
    // targets 7501*1728/1866 = 6946.2637, 7501*138/1866 = 554.7363 -> 6946 + 554 = 7500, unit -> head
    const r = erdosRenyi(convNet, 0.9);
    expect(nnzOf(r)).toEqual([6946, 555]);
    expect(r[0].targetDensity).toBeCloseTo((7501 * 1728) / 1866 / 73728, 14); // 0.0942147307073955
    expect(total(r)).toBe(7501);
    expectConsistent(r);
  });

  test('three-layer conv net at 98%', () => {
    // raw*size: 9*(3+64) = 603, 9*(64+128) = 1728, 138; Σ 2469
    // targets 1536*603/2469 = 375.1349, 1536*1728/2469 = 1075.0134, 1536*138/2469 = 85.8518
    // floors 375+1075+85 = 1535, unit -> head (.852)
    const r = erdosRenyi(convNet3, 0.98);
    expect(nnzOf(r)).toEqual([375, 1075, 86]);
    expect(total(r)).toBe(1536);
    expectConsistent(r);
  });

  test('rejects 1-D shapes with E_SHAPE and powerScale with E_ARG', () => {
    expect(() => erdosRenyi([{ name: 'b', shape: [10] }], 0.5)).toThrow(expect.objectContaining({ code: 'E_SHAPE' }));
    expect(() => erdosRenyi(lenet, 0.5, { powerScale: 1 } as never)).toThrow(expect.objectContaining({ code: 'E_ARG' }));
  });
});

describe('erk properties', () => {
  test('total nnz equals the uniform total exactly', () => {
    const nets = [lenet, dqn, convNet, convNet3];
    for (const layers of nets) {
      for (const s of [0, 0.1, 0.5, 0.8, 0.9, 0.95, 0.98]) {
        for (const powerScale of [0, 0.5, 1]) {
          const r = erk(layers, s, { powerScale });
          expect(total(r)).toBe(total(uniform(layers, s)));
          expectConsistent(r);
        }
        expect(total(erdosRenyi(layers, s))).toBe(total(uniform(layers, s)));
      }
    }
  });

  test('named dense layers are dense and outside the budget', () => {
    // budget over fc2, fc3 only: 3000 + 100 = 3100; Σshape 400 + 110 = 510
    // targets 3100*400/510 = 2431.3725, 3100*110/510 = 668.6275 -> 2431 + 668 = 3099, unit -> fc3
    const r = erk(lenet, 0.9, { dense: ['fc1'] });
    expect(nnzOf(r)).toEqual([235200, 2431, 669]);
    expect(r.map((l) => l.dense)).toEqual([true, false, false]);
    // the sparsity over the non-dense layers is the target
    expect(1 - (r[1].nnz + r[2].nnz) / (30000 + 1000)).toBeCloseTo(0.9, 12);
    expectConsistent(r);
    // the same holds for uniform
    expect(nnzOf(uniform(lenet, 0.9, { dense: ['fc1'] }))).toEqual([235200, 3000, 100]);
  });

  test('powerScale 0 gives every layer the uniform density', () => {
    const r = erk(lenet, 0.9, { powerScale: 0 });
    for (const l of r) expect(l.targetDensity).toBeCloseTo(26620 / 266200, 14);
    // per-layer nnz within one weight of uniform's
    const u = uniform(lenet, 0.9);
    r.forEach((l, i) => expect(Math.abs(l.nnz - u[i].nnz)).toBeLessThanOrEqual(1));
    expect(total(r)).toBe(total(u));
  });

  test('powerScale between 0 and 1 is softer than ERK', () => {
    const hard = erk(lenet, 0.98);
    const soft = erk(lenet, 0.98, { powerScale: 0.5 });
    // the largest layer gets more weights, the smallest fewer
    expect(soft[0].nnz).toBeGreaterThan(hard[0].nnz);
    expect(soft[2].nnz).toBeLessThan(hard[2].nnz);
  });

  test('a tiny layer next to huge ones is made dense and eps is solved again', () => {
    // U = 500000 + 500000 + 2 = 1000002; raw: 0.002, 0.002, 1 -> eps = 1000002/4004 = 249.75
    // tiny: 1 * 249.75 > 1 -> dense; rhs = 1000002 - 4 = 999998 split evenly: 499999 each
    const layers = [
      { name: 'big1', shape: [1000, 1000] },
      { name: 'big2', shape: [1000, 1000] },
      { name: 'tiny', shape: [2, 2] },
    ];
    const r = erk(layers, 0.5);
    expect(nnzOf(r)).toEqual([499999, 499999, 4]);
    expect(r[2].dense).toBe(true);
    expect(r[0].targetDensity).toBeCloseTo(0.499999, 14);
  });

  test('equal fractional parts: the leftover unit goes to the earlier layer', () => {
    // sizes 4, 4, 16 at 80%: zeros 3, 3, 12 -> U = 1 + 1 + 4 = 6; Σshape 4, 4, 8 (Σ 16)
    // targets 6*4/16 = 1.5, 1.5, 6*8/16 = 3 -> floors 1 + 1 + 3 = 5, one unit, tie -> 'a'
    const layers = [
      { name: 'a', shape: [2, 2] },
      { name: 'b', shape: [2, 2] },
      { name: 'c', shape: [4, 4] },
    ];
    expect(nnzOf(erk(layers, 0.8))).toEqual([2, 1, 3]);
    expect(nnzOf(erk([layers[1], layers[0], layers[2]], 0.8))).toEqual([2, 1, 3]);
  });

  test('sparsity 0 makes every layer dense', () => {
    for (const layers of [lenet, dqn, convNet3]) {
      const r = erk(layers, 0);
      expect(r.every((l) => l.dense)).toBe(true);
    }
  });

  test('returns copies in input order', () => {
    const shape = [784, 300];
    const r = erk([{ name: 'a', shape }, { name: 'b', shape: [300, 10] }], 0.9);
    expect(r.map((l) => l.name)).toEqual(['a', 'b']);
    r[0].shape[0] = 1;
    expect(shape[0]).toBe(784);
  });

  test('sparsityDistribution dispatches by name', () => {
    expect(sparsityDistribution('erk', lenet, 0.9)).toEqual(erk(lenet, 0.9));
    expect(sparsityDistribution('erdos-renyi', convNet, 0.9)).toEqual(erdosRenyi(convNet, 0.9));
    expect(sparsityDistribution('uniform', lenet, 0.9)).toEqual(uniform(lenet, 0.9));
    expect(() => sparsityDistribution('magic' as never, lenet, 0.9)).toThrow(/expected 'uniform'/);
  });
});

describe('errors', () => {
  const argError = (fn: () => unknown, message: RegExp) => {
    let caught: unknown;
    try {
      fn();
    } catch (e) {
      caught = e;
    }
    expect(caught).toMatchObject({ code: 'E_ARG', name: 'DynasparseError' });
    expect((caught as Error).message).toMatch(message);
  };

  test.each([
    ['uniform', uniform],
    ['erdosRenyi', erdosRenyi],
    ['erk', erk],
  ] as const)('%s validates its arguments', (name, fn) => {
    argError(() => fn([], 0.5), new RegExp(`${name}: layers: expected a non-empty array`));
    argError(() => fn('x' as never, 0.5), /layers: expected a non-empty array/);
    argError(() => fn(lenet, 1), /sparsity: expected a number in \[0, 1\), got 1/);
    argError(() => fn(lenet, -0.1), /sparsity: expected a number in \[0, 1\)/);
    argError(() => fn(lenet, NaN), /sparsity: expected a finite number, got NaN/);
    argError(() => fn(lenet, '0.5' as never), /sparsity: expected a finite number/);
    argError(() => fn([null] as never, 0.5), /layers\[0\]: expected an object/);
    argError(() => fn([{ name: '', shape: [2, 2] }], 0.5), /layers\[0\]\.name: expected a non-empty string/);
    argError(() => fn([{ name: 3, shape: [2, 2] }] as never, 0.5), /layers\[0\]\.name/);
    argError(() => fn([{ name: 'a', shape: [2, 2] }, { name: 'a', shape: [3, 3] }], 0.5), /layers\[1\]\.name: duplicate layer name 'a'/);
    argError(() => fn([{ name: 'a', shape: [2, 0] }], 0.5), /layers\[0\]\.shape\[1\]: expected an integer >= 1, got 0/);
    argError(() => fn([{ name: 'a', shape: [2, 2.5] }], 0.5), /layers\[0\]\.shape\[1\]/);
    argError(() => fn([{ name: 'a', shape: [] }], 0.5), /layers\[0\]\.shape: expected an array of 1 to 8/);
    argError(() => fn([{ name: 'a' }] as never, 0.5), /layers\[0\]\.shape/);
    argError(() => fn([{ name: 'a', shape: [2 ** 30, 2 ** 30, 2 ** 30] }], 0.5), /not a safe integer/);
    argError(() => fn(lenet, 0.5, { dense: ['fc4'] }), /options\.dense\[0\]: no layer is named 'fc4'/);
    argError(() => fn(lenet, 0.5, { dense: 'fc1' } as never), /options\.dense: expected an array/);
    argError(() => fn(lenet, 0.5, { dense: [1] } as never), /options\.dense\[0\]: expected a layer name/);
    argError(() => fn(lenet, 0.5, { dens: [] } as never), /unknown option 'dens'/);
    argError(() => fn(lenet, 0.5, { dense: ['fc1', 'fc2', 'fc3'] }), /every layer is listed in options\.dense/);
  });

  test('erk rejects a bad powerScale', () => {
    argError(() => erk(lenet, 0.5, { powerScale: -1 }), /powerScale: expected a number >= 0, got -1/);
    argError(() => erk(lenet, 0.5, { powerScale: Infinity }), /powerScale: expected a finite number/);
  });

  test('an infeasible target (a sparse layer rounding to 0 weights) is E_ARG', () => {
    // U = 10 (0.99999*1e6 = 999990 zeros) + 1 (3 - floor(2.99997)) = 11
    // targets 11*2000/2004 = 10.978 and 11*4/2004 = 0.022: the largest remainder goes to big -> small gets 0
    const layers = [
      { name: 'big', shape: [1000, 1000] },
      { name: 'small', shape: [1, 3] },
    ];
    argError(() => erk(layers, 0.99999), /sparsity 0\.99999 is infeasible: layer 'small' \(shape \[1, 3\]\) would keep 0\.0220 weights/);
    // keeping it dense makes it feasible again
    expect(nnzOf(erk(layers, 0.99999, { dense: ['small'] }))).toEqual([10, 3]);
  });
});
