/**
 * Small PNG charts for the examples, drawn with @napi-rs/canvas (a Skia build
 * with no system dependencies): a line chart with several series, and a row of
 * heatmaps sharing one colour scale. Each function returns the canvas; write it
 * with {@link savePng}.
 *
 * Everything is drawn at `scale` times the nominal size (2 by default) so the
 * pictures stay sharp on high-density screens and in READMEs.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

import { createCanvas, GlobalFonts, type Canvas, type SKRSContext2D } from '@napi-rs/canvas';

// ---------------------------------------------------------------------------
// Fonts

/** Where a font the charts can use may be found, in order of preference. */
const BUNDLED_FONTS = [
  // An npm package that ships DejaVu Sans, when installed (independent of the system).
  { module: '@fontsource/dejavu-sans/files/dejavu-sans-latin-400-normal.woff2', weight: 'normal' },
  { module: '@fontsource/dejavu-sans/files/dejavu-sans-latin-700-normal.woff2', weight: 'bold' },
];
const SYSTEM_FONT_DIRS = ['/usr/share/fonts', '/usr/local/share/fonts', '/Library/Fonts', '/System/Library/Fonts', 'C:\\Windows\\Fonts'];
const PLOT_FAMILY = 'DynasparsePlotSans';

let fontFamily: string | undefined;

/**
 * Makes sure text can be drawn and returns the CSS font family to use.
 * Skia draws nothing for text when it has no font at all, so we register a
 * font shipped in an npm package when one is installed, else use the system's
 * fonts (loading the usual folders if Skia found none), else warn once: the
 * chart is still written, without its labels.
 */
export function plotFontFamily(): string {
  if (fontFamily !== undefined) return fontFamily;
  let bundled = false;
  for (const font of BUNDLED_FONTS) {
    try {
      bundled = GlobalFonts.registerFromPath(require.resolve(font.module), PLOT_FAMILY) !== null || bundled;
    } catch {
      // not installed: fall back to system fonts below
    }
  }
  if (bundled) return (fontFamily = `${PLOT_FAMILY}, sans-serif`);
  if (GlobalFonts.families.length === 0) {
    for (const dir of SYSTEM_FONT_DIRS) {
      if (fs.existsSync(dir)) GlobalFonts.loadFontsFromDir(dir);
    }
  }
  const families = GlobalFonts.families.map((f) => f.family);
  const preferred = ['DejaVu Sans', 'Liberation Sans', 'Arial', 'Helvetica', 'Noto Sans'].find((f) => families.includes(f));
  if (!preferred && families.length === 0) {
    process.emitWarning('no font found: charts are drawn without text (install fonts-dejavu or @fontsource/dejavu-sans)');
  }
  return (fontFamily = preferred ? `${preferred}, sans-serif` : 'sans-serif');
}

function font(px: number, bold = false): string {
  return `${bold ? 'bold ' : ''}${px}px ${plotFontFamily()}`;
}

// ---------------------------------------------------------------------------
// Scales and colours

/**
 * "Nice" tick values covering [min, max]: steps of 1, 2, 2.5 or 5 times a power
 * of ten, about `count` of them, all inside the range.
 */
export function niceTicks(min: number, max: number, count = 5, integer = false): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) throw new RangeError(`niceTicks: range must be finite, got [${min}, ${max}]`);
  if (max < min) [min, max] = [max, min];
  if (max === min) return [min];
  const raw = (max - min) / Math.max(1, count);
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  // Integer ticks (epochs, counts) never step by 2.5 or by less than 1.
  const candidates = [1, 2, 2.5, 5, 10].map((m) => m * power).filter((s) => !integer || (s >= 1 && Number.isInteger(s)));
  const step = integer && raw <= 1 ? 1 : candidates.find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  const eps = step * 1e-9;
  for (let v = Math.ceil((min - eps) / step) * step; v <= max + eps; v += step) {
    ticks.push(Number(v.toPrecision(12)) + 0); // + 0 turns -0 into 0
  }
  return ticks;
}

/** A padded range whose ends fall on nice tick values, for a chart axis. */
export function niceRange(min: number, max: number, count = 5): [number, number] {
  if (max === min) {
    const pad = Math.abs(min) > 0 ? Math.abs(min) * 0.05 : 1;
    return [min - pad, max + pad];
  }
  const ticks = niceTicks(min, max, count);
  const step = ticks.length > 1 ? ticks[1] - ticks[0] : Math.abs(max - min);
  return [Math.floor(min / step + 1e-9) * step, Math.ceil(max / step - 1e-9) * step];
}

/** Formats a tick value with no more decimals than the step needs. */
export function formatTick(value: number, step: number): string {
  const decimals = step > 0 ? Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9))) : 0;
  const needsHalf = step > 0 && Math.abs(step * Math.pow(10, decimals) - Math.round(step * Math.pow(10, decimals))) > 1e-9;
  return value.toFixed(decimals + (needsHalf ? 1 : 0));
}

/** Control points of the viridis colour map (perceptually uniform, colour-blind safe). */
const VIRIDIS: ReadonlyArray<readonly [number, number, number]> = [
  [68, 1, 84], [72, 35, 116], [64, 67, 135], [52, 94, 141], [41, 120, 142],
  [32, 144, 140], [34, 167, 132], [68, 190, 112], [121, 209, 81], [189, 222, 38], [253, 231, 37],
];

/** The viridis colour of t in [0, 1] (clamped), as an [r, g, b] triple of 0..255. */
export function viridis(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const a = VIRIDIS[i];
  const b = VIRIDIS[i + 1];
  return [0, 1, 2].map((k) => Math.round(a[k] + (b[k] - a[k]) * f)) as [number, number, number];
}

/** A qualitative palette (Okabe-Ito, colour-blind safe), used for series in order. */
export const PALETTE = ['#000000', '#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442'];

// ---------------------------------------------------------------------------
// Line chart

/** One line of a {@link lineChart}. */
export interface Series {
  name: string;
  x: readonly number[];
  y: readonly number[];
  /** CSS colour; default: the next colour of {@link PALETTE}. */
  color?: string;
  /** Dash pattern in pixels, e.g. [6, 4]; default solid. */
  dash?: number[];
  /** Draw a dot at every point. Default true. */
  markers?: boolean;
}

/** Options of {@link lineChart}. */
export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** A second, smaller line under the title. */
  subtitle?: string;
  /** Nominal size in CSS pixels. Default 900 x 540. */
  width?: number;
  height?: number;
  /** Pixel density. Default 2. */
  scale?: number;
  /** Only integer ticks on the x axis (epochs, steps). Default false. */
  xInteger?: boolean;
  /** Axis ranges; default: the data's, widened to nice ticks. */
  xRange?: [number, number];
  yRange?: [number, number];
}

/**
 * Draws series as lines on shared axes, with ticks, grid, axis labels, a title
 * and a legend to the right of the plot area.
 */
export function lineChart(series: readonly Series[], options: LineChartOptions): Canvas {
  if (series.length === 0) throw new RangeError('lineChart: expected at least one series');
  for (const s of series) {
    if (s.x.length !== s.y.length) {
      throw new RangeError(`lineChart: series "${s.name}" has ${s.x.length} x values but ${s.y.length} y values`);
    }
  }
  const width = options.width ?? 900;
  const height = options.height ?? 540;
  const scale = options.scale ?? 2;
  const canvas = createCanvas(Math.round(width * scale), Math.round(height * scale));
  const g = canvas.getContext('2d');
  g.scale(scale, scale);
  g.fillStyle = '#ffffff';
  g.fillRect(0, 0, width, height);

  // Legend width follows the longest name so nothing is cut.
  g.font = font(13);
  const legendWidth = Math.min(320, Math.max(...series.map((s) => g.measureText(s.name).width)) + 48);
  const top = options.subtitle ? 72 : 54;
  const plot = { left: 74, top, right: width - legendWidth - 24, bottom: height - 58 };

  const xs = series.flatMap((s) => s.x.filter(Number.isFinite));
  const ys = series.flatMap((s) => s.y.filter(Number.isFinite));
  const [x0, x1] = options.xRange ?? (xs.length ? niceRange(Math.min(...xs), Math.max(...xs), 8) : [0, 1]);
  const [y0, y1] = options.yRange ?? (ys.length ? niceRange(Math.min(...ys), Math.max(...ys), 6) : [0, 1]);
  const px = (x: number) => plot.left + ((x - x0) / (x1 - x0 || 1)) * (plot.right - plot.left);
  const py = (y: number) => plot.bottom - ((y - y0) / (y1 - y0 || 1)) * (plot.bottom - plot.top);

  drawTitle(g, options.title, options.subtitle, (plot.left + plot.right) / 2);

  // Grid and ticks.
  g.lineWidth = 1;
  const xTicks = niceTicks(x0, x1, 8, options.xInteger ?? false);
  const yTicks = niceTicks(y0, y1, 6);
  const xStep = xTicks.length > 1 ? xTicks[1] - xTicks[0] : 1;
  const yStep = yTicks.length > 1 ? yTicks[1] - yTicks[0] : 1;
  g.font = font(12);
  g.fillStyle = '#333333';
  for (const t of yTicks) {
    const y = Math.round(py(t)) + 0.5;
    g.strokeStyle = '#e6e6e6';
    line(g, plot.left, y, plot.right, y);
    g.textAlign = 'right';
    g.textBaseline = 'middle';
    g.fillText(formatTick(t, yStep), plot.left - 8, y);
  }
  for (const t of xTicks) {
    const x = Math.round(px(t)) + 0.5;
    g.strokeStyle = '#e6e6e6';
    line(g, x, plot.top, x, plot.bottom);
    g.textAlign = 'center';
    g.textBaseline = 'top';
    g.fillText(formatTick(t, xStep), x, plot.bottom + 8);
  }
  g.strokeStyle = '#444444';
  g.strokeRect(plot.left + 0.5, plot.top + 0.5, plot.right - plot.left, plot.bottom - plot.top);

  // Axis labels.
  g.font = font(14);
  g.fillStyle = '#111111';
  g.textAlign = 'center';
  g.textBaseline = 'alphabetic';
  g.fillText(options.xLabel, (plot.left + plot.right) / 2, height - 16);
  g.save();
  g.translate(20, (plot.top + plot.bottom) / 2);
  g.rotate(-Math.PI / 2);
  g.textBaseline = 'middle';
  g.fillText(options.yLabel, 0, 0);
  g.restore();

  // Series, clipped to the plot area.
  const colors = series.map((s, i) => s.color ?? PALETTE[i % PALETTE.length]);
  g.save();
  g.beginPath();
  g.rect(plot.left, plot.top, plot.right - plot.left, plot.bottom - plot.top);
  g.clip();
  series.forEach((s, i) => {
    g.strokeStyle = colors[i];
    g.fillStyle = colors[i];
    g.lineWidth = 2.25;
    g.lineJoin = 'round';
    g.setLineDash(s.dash ?? []);
    g.beginPath();
    let pen = false;
    for (let k = 0; k < s.x.length; k++) {
      if (!Number.isFinite(s.x[k]) || !Number.isFinite(s.y[k])) {
        pen = false; // a gap, not a line through a missing value
        continue;
      }
      if (pen) g.lineTo(px(s.x[k]), py(s.y[k]));
      else g.moveTo(px(s.x[k]), py(s.y[k]));
      pen = true;
    }
    g.stroke();
    g.setLineDash([]);
    if (s.markers ?? true) {
      for (let k = 0; k < s.x.length; k++) {
        if (!Number.isFinite(s.x[k]) || !Number.isFinite(s.y[k])) continue;
        g.beginPath();
        g.arc(px(s.x[k]), py(s.y[k]), 2.8, 0, 2 * Math.PI);
        g.fill();
      }
    }
  });
  g.restore();

  // Legend.
  g.font = font(13);
  g.textAlign = 'left';
  g.textBaseline = 'middle';
  const lx = plot.right + 18;
  series.forEach((s, i) => {
    const y = plot.top + 10 + i * 22;
    g.strokeStyle = colors[i];
    g.lineWidth = 2.25;
    g.setLineDash(s.dash ?? []);
    line(g, lx, y, lx + 28, y);
    g.setLineDash([]);
    g.fillStyle = '#111111';
    g.fillText(s.name, lx + 36, y);
  });
  return canvas;
}

// ---------------------------------------------------------------------------
// Heatmaps

/** One panel of a {@link heatmaps} row. */
export interface HeatmapPanel {
  title: string;
  /** Row-major values, rows x cols. */
  values: ArrayLike<number>;
  rows: number;
  cols: number;
}

/** Options of {@link heatmaps}. */
export interface HeatmapOptions {
  /** Title over the whole figure. */
  title?: string;
  subtitle?: string;
  /** Label of the colour bar (what a cell's value means). */
  colorbarLabel: string;
  /** Size of one cell in CSS pixels. Default 12. */
  cell?: number;
  /** Shared colour range; default [0, max over all panels]. */
  range?: [number, number];
  /** Pixel density. Default 2. */
  scale?: number;
}

/**
 * Draws panels side by side on ONE colour scale (so they can be compared cell
 * by cell), each with its title, and a colour bar with ticks on the right.
 */
export function heatmaps(panels: readonly HeatmapPanel[], options: HeatmapOptions): Canvas {
  if (panels.length === 0) throw new RangeError('heatmaps: expected at least one panel');
  for (const p of panels) {
    if (!Number.isInteger(p.rows) || !Number.isInteger(p.cols) || p.rows <= 0 || p.cols <= 0 || p.values.length !== p.rows * p.cols) {
      throw new RangeError(`heatmaps: panel "${p.title}" needs rows * cols = ${p.rows} * ${p.cols} values, got ${p.values.length}`);
    }
  }
  const cell = options.cell ?? 12;
  const scale = options.scale ?? 2;
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of panels) {
    for (let i = 0; i < p.values.length; i++) {
      const v = p.values[i];
      if (Number.isFinite(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
  }
  const [v0, v1] = options.range ?? [Math.min(0, lo === Infinity ? 0 : lo), hi === -Infinity || hi <= 0 ? 1 : hi];

  const gap = 36;
  const header = (options.title ? (options.subtitle ? 70 : 50) : 12) + 28;
  const panelW = Math.max(...panels.map((p) => p.cols * cell));
  const panelH = Math.max(...panels.map((p) => p.rows * cell));
  const barW = 18;
  const width = 28 + panels.length * panelW + (panels.length - 1) * gap + 30 + barW + 64;
  const height = header + panelH + 34;
  const canvas = createCanvas(Math.round(width * scale), Math.round(height * scale));
  const g = canvas.getContext('2d');
  g.scale(scale, scale);
  g.fillStyle = '#ffffff';
  g.fillRect(0, 0, width, height);
  if (options.title) drawTitle(g, options.title, options.subtitle, (width - barW - 70) / 2 + 14);

  const color = (v: number) => {
    const [r, gg, b] = viridis((v - v0) / (v1 - v0 || 1));
    return `rgb(${r},${gg},${b})`;
  };
  panels.forEach((p, k) => {
    const left = 28 + k * (panelW + gap);
    g.font = font(15, true);
    g.fillStyle = '#111111';
    g.textAlign = 'center';
    g.textBaseline = 'alphabetic';
    g.fillText(p.title, left + (p.cols * cell) / 2, header - 10);
    for (let r = 0; r < p.rows; r++) {
      for (let c = 0; c < p.cols; c++) {
        const v = p.values[r * p.cols + c];
        g.fillStyle = Number.isFinite(v) ? color(v) : '#cccccc';
        // Overlap by a hair so no seams show between cells when scaled.
        g.fillRect(left + c * cell, header + r * cell, cell + 0.5, cell + 0.5);
      }
    }
    g.strokeStyle = '#444444';
    g.lineWidth = 1;
    g.strokeRect(left + 0.5, header + 0.5, p.cols * cell, p.rows * cell);
  });

  // Colour bar.
  const bx = 28 + panels.length * panelW + (panels.length - 1) * gap + 30;
  const steps = 128;
  for (let i = 0; i < steps; i++) {
    const [r, gg, b] = viridis(i / (steps - 1));
    g.fillStyle = `rgb(${r},${gg},${b})`;
    const y0 = header + panelH - ((i + 1) / steps) * panelH;
    g.fillRect(bx, y0, barW, panelH / steps + 0.5);
  }
  g.strokeStyle = '#444444';
  g.strokeRect(bx + 0.5, header + 0.5, barW, panelH);
  const ticks = niceTicks(v0, v1, 5);
  const step = ticks.length > 1 ? ticks[1] - ticks[0] : 1;
  g.font = font(12);
  g.fillStyle = '#333333';
  g.textAlign = 'left';
  g.textBaseline = 'middle';
  // Label the top of the scale too when the last nice tick is well below it.
  if (ticks.length > 0 && v1 - ticks[ticks.length - 1] > 0.4 * step) ticks.push(v1);
  for (const t of ticks) {
    const y = header + panelH - ((t - v0) / (v1 - v0 || 1)) * panelH;
    g.strokeStyle = '#444444';
    line(g, bx + barW, y, bx + barW + 4, y);
    g.fillText(formatTick(t, t === v1 && !Number.isInteger(t) ? step / 10 : step), bx + barW + 7, y);
  }
  g.save();
  g.translate(bx + barW + 50, header + panelH / 2);
  g.rotate(-Math.PI / 2);
  g.font = font(13);
  g.textAlign = 'center';
  g.fillStyle = '#111111';
  g.fillText(options.colorbarLabel, 0, 0);
  g.restore();
  return canvas;
}

// ---------------------------------------------------------------------------
// Helpers

function line(g: SKRSContext2D, x0: number, y0: number, x1: number, y1: number): void {
  g.beginPath();
  g.moveTo(x0, y0);
  g.lineTo(x1, y1);
  g.stroke();
}

function drawTitle(g: SKRSContext2D, title: string, subtitle: string | undefined, centerX: number): void {
  g.fillStyle = '#111111';
  g.textAlign = 'center';
  g.textBaseline = 'alphabetic';
  g.font = font(18, true);
  g.fillText(title, centerX, 30);
  if (subtitle) {
    g.font = font(13);
    g.fillStyle = '#444444';
    g.fillText(subtitle, centerX, 52);
  }
}

/** Writes a canvas as a PNG file (creating its folder) and returns the path. */
export function savePng(canvas: Canvas, file: string): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, canvas.toBuffer('image/png'));
  return file;
}
