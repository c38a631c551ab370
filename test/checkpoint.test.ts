import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { CHECKPOINT_VERSION, crc32, decodeCheckpoint, encodeCheckpoint, readCheckpointFile, writeCheckpointFile } from '../lib';
import { expectCode } from './helpers/devices';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dynasparse-ckpt-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function sample() {
  return {
    meta: { step: 7, name: 'mlp', nested: [1, 'two', null, { x: true }] },
    arrays: {
      weights: Float32Array.from([1.5, -0, NaN, Infinity, 3e-39]),
      idx: Int32Array.from([0, -5, 2 ** 31 - 1]),
      bytes: Uint8Array.from([1, 2, 3]),
      doubles: Float64Array.from([Math.PI]),
      counters: Uint32Array.from([2 ** 32 - 1]),
      empty: new Float32Array(0),
    },
  };
}

function bytesOf(a: ArrayBufferView): number[] {
  return Array.from(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
}

describe('checkpoint files', () => {
  const file = path.join(dir, 'a.ckpt');

  test('round trip keeps metadata and every array bit for bit, and leaves no temporary file', () => {
    const s = sample();
    writeCheckpointFile(file, s);
    const back = readCheckpointFile(file);
    expect(back.meta).toEqual(s.meta);
    expect(Object.keys(back.arrays)).toEqual(Object.keys(s.arrays));
    for (const [name, a] of Object.entries(s.arrays)) {
      expect(Object.prototype.toString.call(back.arrays[name])).toBe(Object.prototype.toString.call(a));
      expect(bytesOf(back.arrays[name])).toEqual(bytesOf(a));
    }
    expect(fs.readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
    // overwriting replaces the file as a whole
    writeCheckpointFile(file, { meta: 1, arrays: {} });
    expect(readCheckpointFile(file)).toEqual({ meta: 1, arrays: {} });
  });

  test('a truncated file is E_FORMAT at every length', () => {
    writeCheckpointFile(file, sample());
    const full = fs.readFileSync(file);
    const cut = path.join(dir, 'cut.ckpt');
    for (const n of [0, 5, 12, 20, Math.floor(full.length / 2), full.length - 4, full.length - 1]) {
      fs.writeFileSync(cut, full.subarray(0, n));
      expectCode(() => readCheckpointFile(cut), 'E_FORMAT');
    }
  });

  test('any flipped byte is E_FORMAT', () => {
    writeCheckpointFile(file, sample());
    const full = fs.readFileSync(file);
    const bad = path.join(dir, 'bad.ckpt');
    for (let i = 0; i < full.length; i += 3) {
      const copy = Buffer.from(full);
      copy[i] ^= 0x10;
      fs.writeFileSync(bad, copy);
      expectCode(() => readCheckpointFile(bad), 'E_FORMAT');
    }
  });

  test('wrong magic and a future version are E_FORMAT with a message that says so', () => {
    writeCheckpointFile(file, sample());
    const full = fs.readFileSync(file);
    const other = path.join(dir, 'other.ckpt');
    const magic = Buffer.from(full);
    magic.write('NOTACKPT', 0, 'ascii');
    fs.writeFileSync(other, magic);
    expectCode(() => readCheckpointFile(other), 'E_FORMAT', /magic/);
    const future = Buffer.from(full);
    future.writeUInt32LE(CHECKPOINT_VERSION + 1, 8);
    future.writeUInt32LE(crc32(future.subarray(0, future.length - 4)), future.length - 4); // a valid checksum
    fs.writeFileSync(other, future);
    expectCode(() => readCheckpointFile(other), 'E_FORMAT', /version/);
  });

  test('a missing file or a folder is E_IO; writing into a missing folder is E_IO', () => {
    expectCode(() => readCheckpointFile(path.join(dir, 'nope.ckpt')), 'E_IO', /nope\.ckpt/);
    expectCode(() => readCheckpointFile(dir), 'E_IO');
    expectCode(() => writeCheckpointFile(path.join(dir, 'missing', 'x.ckpt'), sample()), 'E_IO');
  });

  test('invalid contents are E_ARG', () => {
    expectCode(() => writeCheckpointFile(file, { meta: null, arrays: { x: [1, 2] as unknown as Float32Array } }), 'E_ARG', /arrays\.x/);
    expectCode(() => writeCheckpointFile('', sample()), 'E_ARG');
  });

  test('crc32 matches the standard check value', () => {
    expect(crc32(Buffer.from('123456789', 'ascii'))).toBe(0xcbf43926);
  });
});

describe('byte arguments (found by the fuzz test)', () => {
  it('crc32 and decodeCheckpoint refuse what is not a Uint8Array with E_ARG', () => {
    for (const bad of [null, undefined, 'abc', 5, {}, [1, 2, 3]]) {
      expectCode(() => crc32(bad as unknown as Uint8Array), 'E_ARG', /bytes: expected a Uint8Array/);
      expectCode(() => decodeCheckpoint(bad as unknown as Uint8Array), 'E_ARG', /bytes: expected a Uint8Array/);
    }
    expect(crc32(Buffer.from('123456789'))).toBe(0xcbf43926);
  });
});

test('sections named like Object members come back as plain entries', () => {
  const arrays = Object.fromEntries([
    ['__proto__', new Float32Array([1, 2])],
    ['toString', new Int32Array([3])],
  ]);
  const back = decodeCheckpoint(encodeCheckpoint({ meta: null, arrays }));
  expect(Object.keys(back.arrays)).toEqual(['__proto__', 'toString']);
  expect(Array.from(back.arrays['__proto__'])).toEqual([1, 2]);
  expect(Array.from(back.arrays['toString'])).toEqual([3]);
  expect(Object.getPrototypeOf(back.arrays)).toBe(null);
});
