import { DEFAULTS, formatPercent, OptionError, parseOptions, plannedRuns, runLabel, usage } from '../../examples/mnist-rigl/options';

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
    [['--frobnicate'], /frobnicate/],
    [['extra'], /extra/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseOptions(argv)).toThrow(OptionError);
    expect(() => parseOptions(argv)).toThrow(message);
  });

  it('lists every option in --help', () => {
    const text = usage();
    for (const name of ['--epochs', '--sparsity', '--methods', '--device', '--seed', '--out', '--help']) expect(text).toContain(name);
  });

  it('formats percentages without float noise', () => {
    expect(formatPercent(0.9)).toBe('90%');
    expect(formatPercent(0.98)).toBe('98%');
    expect(formatPercent(0.985)).toBe('98.5%');
  });
});
