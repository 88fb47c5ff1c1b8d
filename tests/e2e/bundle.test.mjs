// The Worker as `make build` leaves it in build/: its function names are short (no symbol
// hashes) but every function still has one, so a panic's stack trace reads as source paths.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './harness.mjs';

/** Function names from a wasm module's name section, by index. */
function functionNames(bytes) {
  const u32 = (at) => {
    let value = 0;
    let shift = 0;
    for (;;) {
      const byte = bytes[at++];
      value += (byte & 0x7f) * 2 ** shift;
      shift += 7;
      if (byte < 0x80) return [value, at];
    }
  };
  const names = new Map();
  let at = 8;
  while (at < bytes.length) {
    const id = bytes[at++];
    let size;
    [size, at] = u32(at);
    const end = at + size;
    if (id === 0) {
      const [len, nameAt] = u32(at);
      if (bytes.subarray(nameAt, nameAt + len).toString() === 'name') {
        let p = nameAt + len;
        while (p < end) {
          const sub = bytes[p++];
          let subSize;
          [subSize, p] = u32(p);
          if (sub === 1) {
            let [count, q] = u32(p);
            while (count--) {
              let index;
              let n;
              [index, q] = u32(q);
              [n, q] = u32(q);
              names.set(index, bytes.subarray(q, q + n).toString());
              q += n;
            }
          }
          p += subSize;
        }
      }
    }
    at = end;
  }
  return names;
}

test('the built Worker names its functions without symbol hashes', () => {
  const wasm = fs.readFileSync(path.join(ROOT, 'build/index_bg.wasm'));
  const names = [...functionNames(wasm).values()];
  assert.ok(names.length > 1000, `${names.length} named functions`);
  assert.ok(names.includes('blog_core::pages::post'), 'the post renderer, by its path');
  const hashed = names.filter((n) => /::h[0-9a-f]{16}$/.test(n));
  assert.deepEqual(hashed.slice(0, 5), [], `${hashed.length} names keep their hash`);
});

test('short-names keeps every other byte and fails on what is not a module', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'short-names-'));
  // A module whose name section names function 0 `a::b::h0123456789abcdef`.
  const name = Buffer.from('a::b::h0123456789abcdef');
  const sub = Buffer.concat([Buffer.from([1, 0, name.length]), name]); // one entry: index 0
  const subsection = Buffer.concat([Buffer.from([1, sub.length]), sub]);
  const custom = Buffer.concat([Buffer.from([4]), Buffer.from('name'), subsection]);
  const typeSection = Buffer.from([1, 4, 1, 0x60, 0, 0]);
  const module = Buffer.concat([
    Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]),
    typeSection,
    Buffer.from([0, custom.length]),
    custom,
  ]);
  const input = path.join(dir, 'in.wasm');
  const output = path.join(dir, 'out.wasm');
  fs.writeFileSync(input, module);
  execFileSync('node', [path.join(ROOT, 'tools/short-names.mjs'), input, output], { stdio: 'pipe' });
  const out = fs.readFileSync(output);
  assert.deepEqual([...functionNames(out).values()], ['a::b']);
  assert.deepEqual(out.subarray(0, 14), module.subarray(0, 14), 'header and type section as they were');
  fs.writeFileSync(input, Buffer.from('not wasm'));
  assert.throws(() => execFileSync('node', [path.join(ROOT, 'tools/short-names.mjs'), input, output], { stdio: 'pipe' }), /not a wasm module/);
  fs.rmSync(dir, { recursive: true });
});
