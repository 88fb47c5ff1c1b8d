// PNGs for the end-to-end tests: made from pixels (no image files in the repository) and
// read back by their header.
import zlib from 'node:zlib';

/** The eight bytes every PNG starts with. */
export const PNG_SIGNATURE = Buffer.from('\x89PNG\r\n\x1a\n', 'latin1');

/** One PNG chunk: its length, type, data and CRC. */
export function pngChunk(type, data) {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(zlib.crc32(body));
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  return Buffer.concat([length, body, crc]);
}

/** The IHDR data of an 8-bit RGB image. */
export function rgbHeader(width, height) {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  return header;
}

/** A whole RGB PNG from its rows (each a filter byte, then the pixels). */
function rgbPng(width, height, raw) {
  return Buffer.concat([PNG_SIGNATURE, pngChunk('IHDR', rgbHeader(width, height)), pngChunk('IDAT', zlib.deflateSync(raw)), pngChunk('IEND', Buffer.alloc(0))]);
}

/** A valid RGB PNG of one colour: different sizes or colours make different bytes. */
export function png(width, height, [r, g, b]) {
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: width }, () => [r, g, b]).flat())]);
  return rgbPng(width, height, Buffer.concat(Array.from({ length: height }, () => row)));
}

/** A photo-like RGB PNG: smooth gradients with fine grain, which no encoder makes trivial. */
export function photoPng(width, height) {
  const raw = Buffer.alloc((width * 3 + 1) * height);
  let seed = 7;
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1);
    for (let x = 0; x < width; x++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const grain = (seed >> 16) % 9;
      const at = row + 1 + x * 3;
      raw[at] = (x * 255) / width + grain;
      raw[at + 1] = 80 + 60 * Math.sin(y / 90) + grain;
      raw[at + 2] = (y * 200) / height + 40 * Math.cos(x / 140);
    }
  }
  return rgbPng(width, height, raw);
}

/** A PNG's signature, first chunk and size, read from its bytes. */
export function ihdr(bytes) {
  return {
    signature: bytes.subarray(0, 8).equals(PNG_SIGNATURE),
    chunk: bytes.toString('latin1', 12, 16),
    width: bytes.readUInt32BE(16),
    height: bytes.readUInt32BE(20),
  };
}
