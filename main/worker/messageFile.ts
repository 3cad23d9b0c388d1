// A worker on a cluster node reports to its lab through a file on the shared filesystem rather than a pipe: each
// message is one frame, its length (4 bytes, little-endian) and then the message in Node's structured
// serialisation (node:v8, what the lab's IPC channel uses, so typed arrays travel as they are). A frame is written
// by one write call and a reader takes whole frames only, so a frame cut short by a killed worker is never read.
import fs from 'node:fs';
import v8 from 'node:v8';

const HEADER = 4;
/** At most this many bytes are read at once; the rest waits for the next read. */
const MAX_READ = 16 * 2 ** 20;

export function encodeFrame(message: unknown): Buffer {
  const body = v8.serialize(message);
  const frame = Buffer.allocUnsafe(HEADER + body.length);
  frame.writeUInt32LE(body.length, 0);
  body.copy(frame, HEADER);
  return frame;
}

/** Appends messages to `file` (created if missing). */
export function frameWriter(file: string): { write(message: unknown): void; close(): void } {
  const fd = fs.openSync(file, 'a');
  return {
    write: (message) => {
      const frame = encodeFrame(message);
      let written = 0;
      while (written < frame.length) written += fs.writeSync(fd, frame, written);
    },
    close: () => fs.closeSync(fd),
  };
}

/**
 * The whole frames in `file` from byte `offset` on, each with the offset just past it; a missing file has none.
 * A frame larger than MAX_READ is read on its own.
 */
export function readFrames<T>(file: string, offset: number): { message: T; end: number }[] {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  try {
    const size = fs.fstatSync(fd).size;
    const frames: { message: T; end: number }[] = [];
    let at = offset;
    const header = Buffer.alloc(HEADER);
    while (at + HEADER <= size && (frames.length === 0 || at - offset < MAX_READ)) {
      fs.readSync(fd, header, 0, HEADER, at);
      const length = header.readUInt32LE(0);
      if (at + HEADER + length > size) break;
      const body = Buffer.allocUnsafe(length);
      fs.readSync(fd, body, 0, length, at + HEADER);
      at += HEADER + length;
      frames.push({ message: v8.deserialize(body) as T, end: at });
    }
    return frames;
  } finally {
    fs.closeSync(fd);
  }
}
