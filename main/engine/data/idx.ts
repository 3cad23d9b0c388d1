// The IDX format of MNIST-style datasets (MNIST, Fashion-MNIST, KMNIST, EMNIST): reading (gzipped or not),
// validating and writing unsigned-byte image and label files.
import fs from 'node:fs';
import { gunzipSync } from 'node:zlib';

/** A file that is not a valid IDX file of the expected kind, or two files that do not belong together. */
export class IdxError extends Error {
  override name = 'IdxError';
}

export interface IdxImages {
  file: string;
  count: number;
  height: number;
  width: number;
  /** Row-major bytes [count, height * width], 0..255. */
  data: Uint8Array;
}

export interface IdxLabels {
  file: string;
  count: number;
  labels: Uint8Array;
  /** Largest label + 1 (an unsigned byte, so at most 256). */
  numClasses: number;
}

type Kind = 'images' | 'labels';
const DIMS: Record<Kind, number> = { images: 3, labels: 1 };
const UNSIGNED_BYTE = 0x08;

const hex = (n: number) => `0x${n.toString(16).padStart(8, '0')}`;
const magicOf = (kind: Kind) => (UNSIGNED_BYTE << 8) | DIMS[kind];

/** The file's bytes, ungzipped where it starts with the gzip magic 1f 8b. */
function readBytes(file: string): Uint8Array {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw new IdxError(`${file}: cannot read it (${(err as Error).message})`);
  }
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (err) {
      throw new IdxError(`${file}: starts like a gzip file but cannot be ungzipped (${(err as Error).message})`);
    }
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

/** Checks the header and the length of one IDX file of the given kind; returns its dimensions and data. */
export function parseIdx(bytes: Uint8Array, file: string, kind: Kind): { dims: number[]; data: Uint8Array } {
  const expectedMagic = magicOf(kind);
  if (bytes.length < 4) throw new IdxError(`${file}: ${bytes.length} bytes is too short for an IDX ${kind} file`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const magic = view.getUint32(0);
  if (magic !== expectedMagic) {
    const other: Kind = kind === 'images' ? 'labels' : 'images';
    const why =
      magic === magicOf(other)
        ? `it is an IDX ${other} file`
        : bytes[0] === 0 && bytes[1] === 0 && bytes[2] !== UNSIGNED_BYTE
          ? `its data type 0x${bytes[2].toString(16).padStart(2, '0')} is not unsigned bytes (0x08)`
          : 'it is not an IDX file';
    throw new IdxError(`${file}: wrong magic number ${hex(magic)}, expected ${hex(expectedMagic)} for ${kind}: ${why}`);
  }
  const rank = DIMS[kind];
  const header = 4 + 4 * rank;
  if (bytes.length < header)
    throw new IdxError(`${file}: truncated: the header needs ${header} bytes, the file has ${bytes.length}`);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const expected = header + dims.reduce((a, b) => a * b, 1);
  const shape = dims.join(' x ');
  if (bytes.length < expected)
    throw new IdxError(`${file}: truncated: a ${shape} ${kind} file needs ${expected} bytes, found ${bytes.length}`);
  if (bytes.length > expected)
    throw new IdxError(`${file}: a ${shape} ${kind} file has ${expected} bytes, found ${bytes.length} (trailing data)`);
  if (dims[0] === 0) throw new IdxError(`${file}: holds no ${kind}`);
  return { dims, data: bytes.subarray(header) };
}

export function readIdxImages(file: string): IdxImages {
  const { dims, data } = parseIdx(readBytes(file), file, 'images');
  const [count, height, width] = dims;
  if (height === 0 || width === 0) throw new IdxError(`${file}: images of ${height} x ${width} pixels`);
  return { file, count, height, width, data };
}

/** Reads a labels file; with `limit`, every label must be below it. */
export function readIdxLabels(file: string, limit?: number): IdxLabels {
  const { dims, data } = parseIdx(readBytes(file), file, 'labels');
  let max = 0;
  for (let i = 0; i < data.length; i++) {
    if (data[i] > max) max = data[i];
    if (limit !== undefined && data[i] >= limit)
      throw new IdxError(`${file}: label ${data[i]} of example ${i} is out of range: labels must be below ${limit}`);
  }
  return { file, count: dims[0], labels: data, numClasses: max + 1 };
}

/** Images and labels must describe the same examples. */
export function checkPair(images: IdxImages, labels: IdxLabels): void {
  if (images.count !== labels.count)
    throw new IdxError(`${images.file} holds ${images.count} images but ${labels.file} holds ${labels.count} labels`);
}

/** An uncompressed IDX file holding `data` with the given dimensions. */
export function encodeIdx(kind: Kind, dims: number[], data: Uint8Array): Uint8Array {
  const header = 4 + 4 * dims.length;
  const out = new Uint8Array(header + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, magicOf(kind));
  for (const [i, d] of dims.entries()) view.setUint32(4 + 4 * i, d);
  out.set(data, header);
  return out;
}
