// Shortens the function names in a wasm module's name section: `blog_core::pages::post::h0dc6b50a76e0b456`
// becomes `blog_core::pages::post`. The 16 hex digits after `::h` tell apart copies of one
// generic function, and are of no use in a stack trace; being random, they are half of what
// the names cost the gzipped bundle. Every function keeps its name, so a panic's stack trace
// still reads as paths in the source. Other subsections, and every other section, are copied
// byte for byte.
//
// Usage: node tools/short-names.mjs IN.wasm OUT.wasm
import fs from 'node:fs';

const [input, output] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: node tools/short-names.mjs IN.wasm OUT.wasm');
  process.exit(2);
}

const bytes = fs.readFileSync(input);
const HASH = /::h[0-9a-f]{16}$/;

function readU32(buf, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = buf[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) return [value, at];
  }
}

function u32(value) {
  const out = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value) byte |= 0x80;
    out.push(byte);
  } while (value);
  return Buffer.from(out);
}

function vector(parts) {
  return Buffer.concat([u32(parts.length), ...parts]);
}

function text(s) {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([u32(b.length), b]);
}

/** The function names subsection (id 1) with each name's hash suffix dropped. */
function shortFunctionNames(body) {
  let [count, at] = readU32(body, 0);
  const entries = [];
  let shortened = 0;
  while (count--) {
    let index;
    let len;
    [index, at] = readU32(body, at);
    [len, at] = readU32(body, at);
    const name = body.subarray(at, at + len).toString('utf8');
    at += len;
    const short = name.replace(HASH, '');
    if (short !== name) shortened++;
    entries.push(Buffer.concat([u32(index), text(short)]));
  }
  return [vector(entries), shortened];
}

function rewriteNameSection(payload) {
  // payload: the custom section's content after its name ("name").
  const out = [];
  let at = 0;
  let shortened = 0;
  while (at < payload.length) {
    const id = payload[at++];
    let size;
    [size, at] = readU32(payload, at);
    let body = payload.subarray(at, at + size);
    at += size;
    if (id === 1) [body, shortened] = shortFunctionNames(body);
    out.push(Buffer.from([id]), u32(body.length), body);
  }
  return [Buffer.concat(out), shortened];
}

if (bytes.readUInt32LE(0) !== 0x6d736100) {
  console.error(`${input}: not a wasm module`);
  process.exit(1);
}
const sections = [bytes.subarray(0, 8)];
let at = 8;
let found = false;
let shortened = 0;
while (at < bytes.length) {
  const start = at;
  const id = bytes[at++];
  let size;
  [size, at] = readU32(bytes, at);
  const end = at + size;
  if (id === 0) {
    const [nameLen, nameAt] = readU32(bytes, at);
    const name = bytes.subarray(nameAt, nameAt + nameLen).toString('utf8');
    if (name === 'name') {
      found = true;
      let payload;
      [payload, shortened] = rewriteNameSection(bytes.subarray(nameAt + nameLen, end));
      const content = Buffer.concat([text(name), payload]);
      sections.push(Buffer.from([0]), u32(content.length), content);
      at = end;
      continue;
    }
  }
  sections.push(bytes.subarray(start, end));
  at = end;
}
if (!found) {
  console.error(`${input}: no name section`);
  process.exit(1);
}
fs.writeFileSync(output, Buffer.concat(sections));
console.error(`short-names: ${shortened} function names shortened`);
