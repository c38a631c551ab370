import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { formatTick, heatmaps, lineChart, niceRange, niceTicks, plotFontFamily, savePng, viridis } from '../../examples/common/plot';

function pixel(canvas: ReturnType<typeof lineChart>, x: number, y: number): number[] {
  return Array.from(canvas.getContext('2d').getImageData(x, y, 1, 1).data);
}

function inkPixels(canvas: ReturnType<typeof lineChart>, x: number, y: number, w: number, h: number): number {
  const data = canvas.getContext('2d').getImageData(x, y, w, h).data;
  let ink = 0;
  for (let i = 0; i < data.length; i += 4) if (data[i] < 200) ink++;
  return ink;
}

describe('examples: chart scales', () => {
  it('picks nice ticks inside the range', () => {
    expect(niceTicks(0, 10, 5)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(88.3, 97.9, 6)).toEqual([90, 92, 94, 96]);
    expect(niceTicks(0.1, 0.35, 5)).toEqual([0.1, 0.15, 0.2, 0.25, 0.3, 0.35]);
    expect(niceTicks(5, 5)).toEqual([5]);
    expect(niceTicks(-1, 1, 4)).toEqual([-1, -0.5, 0, 0.5, 1]);
    expect(() => niceTicks(0, Infinity)).toThrow(RangeError);
    // Integer ticks: 20 epochs in about 8 ticks step by 5, not 2.5; a short range steps by 1.
    expect(niceTicks(0.5, 20.5, 8)).toEqual([2.5, 5, 7.5, 10, 12.5, 15, 17.5, 20]);
    expect(niceTicks(0.5, 20.5, 8, true)).toEqual([5, 10, 15, 20]);
    expect(niceTicks(0.5, 3.5, 8, true)).toEqual([1, 2, 3]);
  });

  it('widens a range to tick values and formats ticks by their step', () => {
    expect(niceRange(88.3, 97.9, 6)).toEqual([88, 98]);
    expect(niceRange(1, 15, 8)).toEqual([0, 16]);
    expect(formatTick(2, 2)).toBe('2');
    expect(formatTick(0.25, 0.05)).toBe('0.25');
    expect(formatTick(97.5, 2.5)).toBe('97.5');
  });

  it('maps [0, 1] onto viridis from dark purple to yellow', () => {
    expect(viridis(0)).toEqual([68, 1, 84]);
    expect(viridis(1)).toEqual([253, 231, 37]);
    expect(viridis(-3)).toEqual(viridis(0));
    expect(viridis(NaN)).toEqual(viridis(0));
  });
});

describe('examples: charts', () => {
  it('finds a font, so titles and labels are drawn', () => {
    expect(plotFontFamily()).toMatch(/sans-serif$/);
    const withTitle = lineChart([{ name: 'a', x: [0, 1], y: [0, 1] }], { title: 'Accuracy', xLabel: 'epoch', yLabel: '%', scale: 1 });
    // The title row (y 10..35 at scale 1) has dark pixels only if text was rendered.
    expect(inkPixels(withTitle, 100, 10, 500, 25)).toBeGreaterThan(50);
  });

  it('draws each series in its colour and writes a PNG of the nominal size times the scale', () => {
    const chart = lineChart(
      [
        { name: 'flat low', x: [0, 10], y: [0, 0], color: '#ff0000', markers: false },
        { name: 'flat high', x: [0, 10], y: [10, 10], color: '#0000ff', dash: [4, 4] },
      ],
      { title: 't', xLabel: 'x', yLabel: 'y', width: 400, height: 300, scale: 1, yRange: [-5, 15] }
    );
    expect(chart.width).toBe(400);
    expect(chart.height).toBe(300);
    // y = 0 is half-way down the plot area (top 54, bottom 242 at this size): red there.
    const red = pixel(chart, 120, Math.round(242 - (5 / 20) * (242 - 54)));
    expect(red[0]).toBeGreaterThan(200);
    expect(red[2]).toBeLessThan(80);
    const file = savePng(chart, path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'plot-')), 'sub', 'chart.png'));
    const bytes = fs.readFileSync(file);
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(bytes.readUInt32BE(16)).toBe(400);
    expect(bytes.readUInt32BE(20)).toBe(300);
  });

  it('rejects series with mismatched lengths and empty input', () => {
    expect(() => lineChart([], { title: '', xLabel: '', yLabel: '' })).toThrow(/at least one series/);
    expect(() => lineChart([{ name: 's', x: [1, 2], y: [1] }], { title: '', xLabel: '', yLabel: '' })).toThrow(/"s" has 2 x values but 1 y values/);
  });

  it('colours heatmap cells on one scale shared by all panels', () => {
    const a = new Float32Array(4).fill(0);
    const b = Float32Array.from([0, 1, 2, 4]);
    const canvas = heatmaps(
      [{ title: 'A', values: a, rows: 2, cols: 2 }, { title: 'B', values: b, rows: 2, cols: 2 }],
      { colorbarLabel: 'count', cell: 20, scale: 1 }
    );
    // Layout at scale 1 without a figure title: header 40, first panel at x 28, second at 28 + 40 + 36.
    const at = (panel: number, r: number, c: number) => pixel(canvas, 28 + panel * 76 + c * 20 + 10, 40 + r * 20 + 10).slice(0, 3);
    expect(at(0, 0, 0)).toEqual(viridis(0));
    expect(at(1, 0, 0)).toEqual(viridis(0));
    expect(at(1, 1, 1)).toEqual(viridis(1));
    expect(at(1, 1, 0)).toEqual(viridis(0.5));
    expect(() => heatmaps([{ title: 'bad', values: a, rows: 3, cols: 3 }], { colorbarLabel: '' })).toThrow(/rows \* cols = 3 \* 3/);
  });
});
