import { loadMnist } from '../../examples/mnist-rigl/data';
import { DEFAULTS, formatPercent, OptionError, parseOptions, plannedRuns, runLabel, TRAIN_DIGITS, trainingSteps, usage } from '../../examples/mnist-rigl/options';

describe('examples: demo options', () => {
  it('has defaults that run dense, static, set and rigl at 90% and 98%', () => {
    const o = parseOptions([]);
    expect(o.methods).toEqual(['dense', 'static', 'set', 'rigl']);
    expect(o.sparsities).toEqual([0.9, 0.98]);
    expect(o.device).toBeUndefined();
    expect(o.epochs).toBe(DEFAULTS.epochs);
    expect(plannedRuns(o).map(runLabel)).toEqual(['Dense', 'Static 90%', 'SET 90%', 'RigL 90%', 'Static 98%', 'SET 98%', 'RigL 98%']);
  });

  it('parses every option', () => {
    const o = parseOptions(['--epochs', '3', '--sparsity', '0.8, 0.95', '--methods', 'RigL,dense', '--device', 'cpu',
      '--seed', '12', '--out', '/tmp/x', '--batch-size', '32', '--lr', '0.1', '--update-every', '50', '--shift', '0']);
    expect(o).toMatchObject({ epochs: 3, sparsities: [0.8, 0.95], methods: ['rigl', 'dense'], device: 'cpu', seed: 12,
      out: '/tmp/x', batchSize: 32, lr: 0.1, updateEvery: 50, shift: 0, help: false });
    expect(plannedRuns(o).map(runLabel)).toEqual(['Dense', 'RigL 80%', 'RigL 95%']);
    expect(parseOptions(['--help']).help).toBe(true);
    expect(parseOptions(['-h']).help).toBe(true);
  });

  it.each([
    [['--epochs', '0'], /--epochs: expected a positive integer, got "0"/],
    [['--epochs', '2.5'], /--epochs/],
    [['--sparsity', '1'], /--sparsity: expected numbers in \(0, 1\)/],
    [['--sparsity', '0.9,,0.98'], /--sparsity/],
    [['--sparsity', '0.9,0.9'], /repeats/],
    [['--methods', 'rigl,snip'], /--methods: expected a comma-separated subset of dense,static,set,rigl, got "rigl,snip"/],
    [['--device', 'gpu'], /--device: expected cpu or cuda, got "gpu"/],
    [['--seed', '-1'], /--seed/],
    [['--lr', 'fast'], /--lr/],
    [['--out', ''], /--out/],
    [['--shift', '28'], /--shift: expected an integer in \[0, 27\]/],
    [['--batch-size', '9000'], /--batch-size: expected at most 8000 \(the training digits\), got "9000"/],
    // 2 epochs of 125 batches: updates may run to step 187 and the drop fraction reaches 0 at 187 - N.
    [['--update-every', '500', '--epochs', '2'], /--update-every: expected at most 62 with 250 training steps \(2 epochs of 125 batches of 64\), got 500/],
    [['--update-every', '200', '--epochs', '2'], /--update-every: expected at most 62 with 250 training steps/],
    [['--update-every', '63', '--epochs', '2', '--methods', 'set'], /expected at most 62/],
    [['--epochs', '1'], /--update-every: expected at most 31 with 125 training steps \(1 epoch of 125 batches of 64\), got 100/],
    [['--batch-size', '8000', '--epochs', '3', '--update-every', '1'], /--update-every: 3 training steps \(3 epochs of 1 batch of 8000\) are too few for any mask update period/],
    [['--frobnicate'], /frobnicate/],
    [['-x'], /-x/],
    [['extra'], /extra/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseOptions(argv)).toThrow(OptionError);
    expect(() => parseOptions(argv)).toThrow(message);
  });

  it('accepts an update period up to a third of the first 75% of training, and any period without SET or RigL', () => {
    expect(parseOptions(['--update-every', '62', '--epochs', '2']).updateEvery).toBe(62);
    expect(parseOptions(['--update-every', '625']).updateEvery).toBe(625); // defaults: 2,500 steps, floor(1875 / 3)
    expect(() => parseOptions(['--update-every', '626'])).toThrow(/expected at most 625 with 2500 training steps/);
    expect(parseOptions(['--update-every', '500', '--epochs', '2', '--methods', 'dense,static']).updateEvery).toBe(500);
    expect(parseOptions(['--batch-size', '8000', '--methods', 'dense']).batchSize).toBe(8000);
    expect(trainingSteps(2, 64)).toBe(250);
  });

  it('counts the training digits the demo loads', () => {
    expect(loadMnist().train.count).toBe(TRAIN_DIGITS);
  });

  it('lists every option in --help', () => {
    const text = usage();
    for (const name of ['--epochs', '--sparsity', '--methods', '--device', '--seed', '--out', '--batch-size', '--lr', '--update-every', '--shift', '--help']) {
      expect(text).toContain(name);
    }
    expect(text).toContain('batch order and digit shifts'); // --seed also draws the augmentation shifts
    expect(text).toContain('with the defaults 625 of 2,500');
  });

  it('formats percentages without float noise', () => {
    expect(formatPercent(0.9)).toBe('90%');
    expect(formatPercent(0.98)).toBe('98%');
    expect(formatPercent(0.985)).toBe('98.5%');
  });
});
