/**
 * Plain-text tables for terminal output, in Markdown syntax so a result can
 * be pasted into a README as it is.
 */

/** Column alignment. */
export type Align = 'left' | 'right';

/**
 * Formats rows under a header as a Markdown table with padded columns.
 * `align` gives each column's alignment (default left); right-aligned columns
 * get a `---:` separator so Markdown renderers align them too.
 */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[] = []): string {
  for (const [i, row] of rows.entries()) {
    if (row.length !== header.length) {
      throw new RangeError(`markdownTable: row ${i} has ${row.length} cells, the header has ${header.length}`);
    }
  }
  const widths = header.map((h, c) => Math.max(3, h.length, ...rows.map((r) => r[c].length)));
  const pad = (text: string, c: number) => (align[c] === 'right' ? text.padStart(widths[c]) : text.padEnd(widths[c]));
  const line = (cells: readonly string[]) => `| ${cells.map(pad).join(' | ')} |`;
  const rule = `|${widths.map((w, c) => (align[c] === 'right' ? '-'.repeat(w + 1) + ':' : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}
