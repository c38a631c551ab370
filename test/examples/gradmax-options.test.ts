import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { main } from '../../examples/gradmax-teacher-student/main';
import { DEFAULTS, OptionError, parseOptions, usage } from '../../examples/gradmax-teacher-student/options';
import { capture } from '../helpers/capture';

describe('examples: GradMax teacher-student options', () => {
  it('has defaults: 5 seeds into the example folder', () => {
    expect(parseOptions([])).toEqual({ seeds: 5, out: DEFAULTS.out, help: false });
  });

  it('parses every option', () => {
    expect(parseOptions(['--seeds', '2', '--out', '/tmp/x'])).toEqual({ seeds: 2, out: '/tmp/x', help: false });
    expect(parseOptions(['--seeds=3']).seeds).toBe(3);
    expect(parseOptions(['--help']).help).toBe(true);
    expect(parseOptions(['-h']).help).toBe(true);
  });

  it.each([
    [['--seeds', 'abc'], /--seeds: expected a positive integer, got "abc"/],
    [['--seeds', '0'], /--seeds: expected a positive integer, got "0"/],
    [['--seeds', '-1'], /--seeds/],
    [['--seeds', '1.0'], /--seeds: expected a positive integer, got "1.0"/],
    [['--seeds', '1e1'], /--seeds: expected a positive integer, got "1e1"/],
    [['--seeds', ''], /--seeds/],
    [['--out', ''], /--out: expected a folder/],
    [['--steps', '10'], /steps/],
    [['-x'], /-x/],
    [['extra'], /extra/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseOptions(argv)).toThrow(OptionError);
    expect(() => parseOptions(argv)).toThrow(message);
  });

  it('lists every option in --help', () => {
    const text = usage();
    for (const name of ['--seeds', '--out', '-h, --help']) expect(text).toContain(name);
  });
});

describe('examples: GradMax teacher-student command line', () => {
  it('prints the usage for --help and -h, and a clean usage error with status 2', () => {
    for (const flag of ['--help', '-h']) {
      const help = capture(() => main([flag]));
      expect(help).toMatchObject({ code: 0, err: '' });
      expect(help.out).toContain('--seeds');
    }
    for (const argv of [['--seeds', 'abc'], ['--seeds', '0'], ['--steps', '10']]) {
      const bad = capture(() => main(argv));
      expect(bad.code).toBe(2);
      expect(bad.out).toBe('');
      expect(bad.err).toMatch(/^error: .*\n\nUsage: /);
      expect(bad.err).not.toMatch(/\n\s+at /); // no stack trace
    }
  });

  it('writes nothing for a usage error', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'gradmax-'));
    expect(capture(() => main(['--seeds', '1.0', '--out', out])).code).toBe(2);
    expect(fs.readdirSync(out)).toEqual([]);
  });
});
