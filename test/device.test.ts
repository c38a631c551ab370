import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

import { backends, defaultDevice, DynasparseError, memory, resetPeakMemory, setDefaultDevice, synchronize, zeros } from '../lib';
import { warnAboutEnvironment } from '../lib/device';

const cuda = backends()[1];

describe('backends()', () => {
  test('lists the CPU as available with its thread count and BLAS', () => {
    const [cpu] = backends();
    expect(cpu.name).toBe('cpu');
    expect(cpu.available).toBe(true);
    expect(Number.isInteger(cpu.threads) && cpu.threads >= 1).toBe(true);
    expect(['openblas', 'builtin']).toContain(cpu.blas);
  });

  test('describes CUDA, with a reason whenever it is unavailable', () => {
    expect(cuda.name).toBe('cuda');
    expect(typeof cuda.compiled).toBe('boolean');
    expect(Object.keys(cuda.libraries).sort()).toEqual(['cublas', 'cusparse', 'cusparselt']);
    if (!cuda.available) {
      expect(cuda.reason).toMatch(/\w+/);
      expect(cuda.libraries).toEqual({ cusparse: false, cusparselt: false, cublas: false });
    } else {
      expect(cuda.deviceName).toBeTruthy();
      expect(cuda.computeCapability).toMatch(/^\d+\.\d$/);
    }
  });
});

describe('default device', () => {
  const original = defaultDevice();
  afterEach(() => setDefaultDevice(original));

  test('is cuda when available and cpu otherwise', () => {
    if (process.env.DYNASPARSE_DEVICE) return; // overridden on purpose
    expect(original).toBe(cuda.available ? 'cuda' : 'cpu');
  });

  test('setDefaultDevice changes where new tensors go', () => {
    setDefaultDevice('cpu');
    expect(defaultDevice()).toBe('cpu');
    const t = zeros([2]);
    expect(t.device).toBe('cpu');
    t.dispose();
  });

  test('rejects an unknown device name with E_ARG', () => {
    expect(() => setDefaultDevice('tpu' as never)).toThrow(expect.objectContaining({ code: 'E_ARG', message: expect.stringContaining("'cpu' or 'cuda'") }));
  });

  (cuda.available ? test.skip : test)('rejects cuda with E_DEVICE and the reason where it is unavailable', () => {
    let error: unknown;
    try {
      setDefaultDevice('cuda');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DynasparseError);
    expect((error as DynasparseError).code).toBe('E_DEVICE');
    expect((error as DynasparseError).message).toContain(cuda.reason);
    expect(defaultDevice()).toBe(original);
  });
});

describe('memory()', () => {
  test('counts bytes and allocations and returns to the start after dispose', () => {
    const before = memory('cpu');
    const a = zeros([100, 10], { device: 'cpu' });
    const b = zeros([3], { device: 'cpu' });
    const during = memory('cpu');
    expect(during.bytesInUse - before.bytesInUse).toBe(4012);
    expect(during.allocations - before.allocations).toBe(2);
    a.dispose();
    b.dispose();
    expect(memory('cpu')).toEqual({ ...memory('cpu'), bytesInUse: before.bytesInUse, allocations: before.allocations });
  });

  test('peak follows the largest use since resetPeakMemory', () => {
    resetPeakMemory('cpu');
    const base = memory('cpu').bytesInUse;
    expect(memory('cpu').peakBytes).toBe(base);
    zeros([1000], { device: 'cpu' }).dispose();
    expect(memory('cpu').peakBytes).toBe(base + 4000);
    expect(memory('cpu').bytesInUse).toBe(base);
  });

  test('rejects an unknown device with E_ARG', () => {
    expect(() => memory('gpu' as never)).toThrow(expect.objectContaining({ code: 'E_ARG' }));
    expect(() => resetPeakMemory(3 as never)).toThrow(expect.objectContaining({ code: 'E_ARG' }));
  });
});

describe('synchronize()', () => {
  test('returns on the CPU (work there is synchronous)', () => {
    expect(synchronize('cpu')).toBeUndefined();
  });

  (cuda.available ? test.skip : test)('is E_DEVICE for cuda where it is unavailable', () => {
    expect(() => synchronize('cuda')).toThrow(expect.objectContaining({ code: 'E_DEVICE' }));
  });
});

describe('environment variables with values the library ignores', () => {
  test('warnAboutEnvironment names each bad value and says what is used instead', () => {
    expect(warnAboutEnvironment({ DYNASPARSE_DEVICE: 'gpu' }, false)).toEqual([`DYNASPARSE_DEVICE: expected 'cpu' or 'cuda', got 'gpu'; it is ignored and the default device is used`]);
    expect(warnAboutEnvironment({ DYNASPARSE_NUM_THREADS: 'abc' }, false)[0]).toMatch(/expected a whole number >= 1, got 'abc'; it is ignored and every core is used/);
    expect(warnAboutEnvironment({ DYNASPARSE_NUM_THREADS: '2abc' }, false)).toHaveLength(1);
    expect(warnAboutEnvironment({ DYNASPARSE_NUM_THREADS: '0' }, false)).toHaveLength(1);
    expect(warnAboutEnvironment({ DYNASPARSE_NUM_THREADS: '1000' }, false)[0]).toMatch(/1000 threads asked, at most 256 are used/);
    expect(warnAboutEnvironment({ DYNASPARSE_DEVICE: 'cpu', DYNASPARSE_NUM_THREADS: ' 2 ' }, false)).toEqual([]);
    expect(warnAboutEnvironment({}, false)).toEqual([]);
  });

  test('the native thread count reads DYNASPARSE_NUM_THREADS as strictly as the warning does', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const addon = process.env.DYNASPARSE_ADDON ? path.resolve(process.env.DYNASPARSE_ADDON) : (require('node-gyp-build') as { path(dir: string): string }).path(path.resolve(__dirname, '..'));
    const threads = (value: string): number => {
      const r = spawnSync(process.execPath, ['-e', `console.log(require(${JSON.stringify(addon)}).backends()[0].threads)`], { env: { ...process.env, DYNASPARSE_NUM_THREADS: value }, encoding: 'utf8' });
      return Number(r.stdout.trim());
    };
    const all = threads('');
    expect(threads(' 1 ')).toBe(1);
    expect(threads('1abc')).toBe(all); // atoi read this as 1
    expect(threads('-1')).toBe(all);
    expect(threads('100000')).toBe(Math.min(256, 100000));
  });
});
