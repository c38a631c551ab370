/**
 * Command-line options of the GradMax teacher-student example. Parsing is
 * separate from main.ts so it can be tested without training anything.
 */
import { OptionError, parseArgv, positiveInteger } from '../common/options';

export { OptionError };

/** Parsed, validated options. */
export interface TeacherStudentOptions {
  seeds: number;
  out: string;
  help: boolean;
}

export const DEFAULTS = {
  seeds: 5,
  out: 'examples/gradmax-teacher-student/out',
};

/** The text `--help` prints. */
export function usage(): string {
  return `Usage: npm run examples -- gradmax-teacher-student [options]

The teacher-student experiment of the GradMax paper: a 10-5-10 student grown by
one hidden unit five times with growNeurons (gradmax, gradmax-opt, random,
zeros), against fixed 10-unit and 5-unit students. Prints the final losses and
the gradient-norm gain at each growth, and writes PNG charts, gains.csv and
results.json.

Options:
  --seeds N           seeds 0..N-1 per run (default ${DEFAULTS.seeds})
  --out DIR           folder for the outputs, relative to the current folder
                      (default ${DEFAULTS.out})
  -h, --help          show this help
`;
}

/** Parses argv (without the node and script names). Throws {@link OptionError}. */
export function parseOptions(argv: readonly string[]): TeacherStudentOptions {
  const v = parseArgv(argv, {
    seeds: { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  }).values;
  if (v.out !== undefined && v.out.trim() === '') throw new OptionError('--out: expected a folder, got an empty string');
  return {
    seeds: positiveInteger('seeds', v.seeds, DEFAULTS.seeds),
    out: v.out ?? DEFAULTS.out,
    help: v.help ?? false,
  };
}
