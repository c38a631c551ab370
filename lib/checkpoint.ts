/**
 * The checkpoint file format: a versioned container of named typed arrays plus
 * a JSON header, protected by a CRC32, written atomically.
 *
 * Layout (little-endian):
 * ```
 * magic        8 bytes  "DYNSPCKP"
 * version      uint32   CHECKPOINT_VERSION
 * headerBytes  uint32   length of the UTF-8 JSON header
 * header       JSON     { meta, sections: [{ name, dtype, length }] }
 * sections     bytes    each section's elements, in header order, packed
 * crc32        uint32   CRC32 of every byte before it
 * ```
 * A reader checks the magic, the version, that the file is exactly as long as the
 * header says, and the checksum, before it builds anything, so a truncated or
 * damaged file never loads partially.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';

import { describe, DynasparseError, fail } from './errors';

/** The format version this library writes; files of a newer version are refused with E_FORMAT. */
export const CHECKPOINT_VERSION = 1;

const MAGIC = Buffer.from('DYNSPCKP', 'ascii');
const FIXED = MAGIC.length + 8; // magic + version + headerBytes

/** A JSON value, the type of a checkpoint's metadata. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** The typed arrays a checkpoint section can hold. */
export type CheckpointArray = Float32Array | Float64Array | Int32Array | Uint8Array | Uint32Array;

/** The contents of a checkpoint file: JSON metadata and named typed arrays. */
export interface CheckpointContents {
  meta: JsonValue;
  arrays: Record<string, CheckpointArray>;
}

type SectionDtype = 'float32' | 'float64' | 'int32' | 'uint8' | 'uint32';
const CONSTRUCTORS: Record<SectionDtype, { new (buffer: ArrayBuffer, offset: number, length: number): CheckpointArray; BYTES_PER_ELEMENT: number }> = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  uint8: Uint8Array,
  uint32: Uint32Array,
};

function dtypeOf(a: unknown, name: string): SectionDtype {
  const tag = Object.prototype.toString.call(a);
  switch (tag) {
    case '[object Float32Array]': return 'float32';
    case '[object Float64Array]': return 'float64';
    case '[object Int32Array]': return 'int32';
    case '[object Uint8Array]': return 'uint8';
    case '[object Uint32Array]': return 'uint32';
    default: return fail('E_ARG', `arrays.${name}: expected a Float32Array, Float64Array, Int32Array, Uint8Array or Uint32Array, got ${describe(a)}`);
  }
}

/** CRC32 (IEEE) of a byte range; zlib's native one where Node has it. */
export function crc32(bytes: Uint8Array): number {
  checkBytes(bytes, 'bytes');
  const native = (zlib as unknown as { crc32?: (data: Uint8Array) => number }).crc32;
  if (native) return native(bytes) >>> 0;
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** A Uint8Array (a Buffer is one) from any realm; anything else is E_ARG. */
function checkBytes(value: unknown, name: string): void {
  if (!(value instanceof Uint8Array) && !(ArrayBuffer.isView(value) && Object.prototype.toString.call(value) === '[object Uint8Array]'))
    fail('E_ARG', `${name}: expected a Uint8Array or Buffer, got ${describe(value)}`);
}

function ioError(what: string, file: string, cause: unknown): never {
  if (cause instanceof DynasparseError) throw cause;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return fail('E_IO', `${what} '${file}': ${reason}`);
}

/** The bytes of a checkpoint file for `contents` (the format described above). */
export function encodeCheckpoint(contents: CheckpointContents): Buffer {
  if (os.endianness() !== 'LE') fail('E_FORMAT', 'checkpoints are little-endian; this machine is big-endian');
  if (contents === null || typeof contents !== 'object') fail('E_ARG', `contents: expected { meta, arrays }, got ${describe(contents)}`);
  const { meta, arrays } = contents;
  if (arrays === null || typeof arrays !== 'object') fail('E_ARG', `arrays: expected an object of typed arrays, got ${describe(arrays)}`);
  const names = Object.keys(arrays);
  const sections = names.map((name) => ({ name, dtype: dtypeOf(arrays[name], name), length: arrays[name].length }));
  let headerJson: string;
  try {
    headerJson = JSON.stringify({ meta: meta ?? null, sections });
  } catch (e) {
    return fail('E_ARG', `meta: expected a JSON value, ${e instanceof Error ? e.message : String(e)}`);
  }
  const header = Buffer.from(headerJson, 'utf8');
  const dataBytes = names.reduce((s, n) => s + arrays[n].byteLength, 0);
  const out = Buffer.allocUnsafe(FIXED + header.length + dataBytes + 4);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(CHECKPOINT_VERSION, MAGIC.length);
  out.writeUInt32LE(header.length, MAGIC.length + 4);
  header.copy(out, FIXED);
  let offset = FIXED + header.length;
  for (const n of names) {
    const a = arrays[n];
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), offset);
    offset += a.byteLength;
  }
  out.writeUInt32LE(crc32(out.subarray(0, offset)), offset);
  return out;
}

/** Parses and validates checkpoint bytes; any damage throws E_FORMAT before anything is built. */
export function decodeCheckpoint(bytes: Uint8Array, source = 'checkpoint'): CheckpointContents {
  if (os.endianness() !== 'LE') fail('E_FORMAT', 'checkpoints are little-endian; this machine is big-endian');
  checkBytes(bytes, 'bytes');
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < FIXED + 4) fail('E_FORMAT', `${source}: expected at least ${FIXED + 4} bytes, got ${buf.length} (truncated?)`);
  if (!buf.subarray(0, MAGIC.length).equals(MAGIC)) fail('E_FORMAT', `${source}: not a dynasparse checkpoint (wrong magic bytes)`);
  const version = buf.readUInt32LE(MAGIC.length);
  if (version === 0 || version > CHECKPOINT_VERSION)
    fail('E_FORMAT', `${source}: format version ${version} is not supported (this library reads versions 1 to ${CHECKPOINT_VERSION})`);
  const headerBytes = buf.readUInt32LE(MAGIC.length + 4);
  if (FIXED + headerBytes + 4 > buf.length) fail('E_FORMAT', `${source}: the header runs past the end of the file (truncated?)`);
  const stored = buf.readUInt32LE(buf.length - 4);
  if (crc32(buf.subarray(0, buf.length - 4)) !== stored) fail('E_FORMAT', `${source}: checksum mismatch (the file is damaged or truncated)`);
  let header: { meta?: JsonValue; sections?: unknown };
  try {
    header = JSON.parse(buf.subarray(FIXED, FIXED + headerBytes).toString('utf8'));
  } catch {
    return fail('E_FORMAT', `${source}: the header is not valid JSON`);
  }
  if (header === null || typeof header !== 'object' || !Array.isArray(header.sections)) fail('E_FORMAT', `${source}: the header has no section list`);
  let offset = FIXED + headerBytes;
  const plan: { name: string; ctor: (typeof CONSTRUCTORS)[SectionDtype]; length: number; offset: number }[] = [];
  const seen = new Set<string>();
  for (const s of header.sections as { name?: unknown; dtype?: unknown; length?: unknown }[]) {
    if (s === null || typeof s !== 'object' || typeof s.name !== 'string' || typeof s.dtype !== 'string' || !(s.dtype in CONSTRUCTORS) ||
        typeof s.length !== 'number' || !Number.isSafeInteger(s.length) || s.length < 0 || seen.has(s.name))
      fail('E_FORMAT', `${source}: a malformed section entry in the header`);
    seen.add(s.name);
    const ctor = CONSTRUCTORS[s.dtype as SectionDtype];
    plan.push({ name: s.name, ctor, length: s.length, offset });
    offset += s.length * ctor.BYTES_PER_ELEMENT;
  }
  if (offset + 4 !== buf.length) fail('E_FORMAT', `${source}: expected ${offset + 4} bytes from the header, got ${buf.length}`);
  // No prototype: a section may be named "__proto__" or "toString" and must stay a plain entry.
  const arrays: Record<string, CheckpointArray> = Object.create(null);
  for (const p of plan) {
    // Copy into a fresh, aligned buffer: sections are packed, not aligned.
    const copy = new ArrayBuffer(p.length * p.ctor.BYTES_PER_ELEMENT);
    new Uint8Array(copy).set(buf.subarray(p.offset, p.offset + copy.byteLength));
    arrays[p.name] = new p.ctor(copy, 0, p.length);
  }
  return { meta: header.meta ?? null, arrays };
}

/**
 * Writes a checkpoint file atomically: the bytes go to `<path>.tmp-<pid>-<random>`
 * in the same folder, are flushed to disk (fsync), and the temporary file is then
 * renamed over `path`, so a reader sees either the old file or the complete new one.
 * Failures throw E_IO and leave no temporary file behind.
 */
export function writeCheckpointFile(file: string, contents: CheckpointContents): void {
  if (typeof file !== 'string' || file.length === 0) fail('E_ARG', `path: expected a non-empty string, got ${describe(file)}`);
  const bytes = encodeCheckpoint(contents);
  const tmp = `${file}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx', 0o644);
    let written = 0;
    while (written < bytes.length) written += fs.writeSync(fd, bytes, written, bytes.length - written);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, file);
  } catch (e) {
    if (fd !== undefined) try { fs.closeSync(fd); } catch { /* already failing */ }
    try { fs.unlinkSync(tmp); } catch { /* it may not exist */ }
    ioError('cannot write checkpoint', file, e);
  }
  // Make the rename itself durable where the platform allows syncing a folder.
  try {
    const dir = fs.openSync(path.dirname(path.resolve(file)), 'r');
    try { fs.fsyncSync(dir); } finally { fs.closeSync(dir); }
  } catch { /* not supported everywhere (e.g. Windows); the data itself is synced */ }
}

/** Reads and validates a checkpoint file: E_IO when it cannot be read, E_FORMAT when it is damaged. */
export function readCheckpointFile(file: string): CheckpointContents {
  if (typeof file !== 'string' || file.length === 0) fail('E_ARG', `path: expected a non-empty string, got ${describe(file)}`);
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (e) {
    return ioError('cannot read checkpoint', file, e);
  }
  return decodeCheckpoint(bytes, `checkpoint '${file}'`);
}
