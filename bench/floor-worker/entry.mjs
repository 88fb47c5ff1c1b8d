// The floor worker's entry module: the wasm-bindgen module tools/build-worker.sh writes,
// called as the blog's src/entry.mjs calls it (without its recovery after an abort, which
// costs one property read per request).
import * as wasm from './index.js';

export default {
  fetch(request, env, ctx) {
    return wasm.fetch(request, env, ctx);
  },
};
