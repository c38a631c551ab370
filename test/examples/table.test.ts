import { markdownTable } from '../../examples/common/table';

describe('examples: markdown tables', () => {
  it('pads columns and marks right-aligned ones', () => {
    const t = markdownTable(['method', 'acc'], [['RigL', '97.5%'], ['Dense', '98%']], ['left', 'right']);
    expect(t.split('\n')).toEqual([
      '| method |   acc |',
      '|--------|------:|',
      '| RigL   | 97.5% |',
      '| Dense  |   98% |',
    ]);
  });

  it('rejects rows of the wrong width', () => {
    expect(() => markdownTable(['a', 'b'], [['1']])).toThrow(/row 0 has 1 cells/);
  });
});
