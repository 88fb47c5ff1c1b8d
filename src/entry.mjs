// The Worker's entry module (wrangler.toml `main`), around the module worker-build makes.
//
// worker-build exports the Rust fetch handler on a WorkerEntrypoint class wrapped in Proxies:
// constructing it runs a check that makes the wasm instance again after one aborted (a Rust
// panic), and every call is watched for such an abort. Building the class and its Proxies for
// every request cost a tenth of a page answered from memory, so while the instance is healthy
// requests call the handler directly, watched the same way; after an abort the next request
// goes through the class, whose construction makes the instance again.
import Built from '../build/index.js';

export * from '../build/index.js';

/** worker-build's record of the instance: `criticalError` once one has aborted. */
const state = globalThis.__worker_init_state;
const handler = Built.prototype.fetch;
const direct = typeof state === 'object' && state !== null && typeof handler === 'function';

function watch(error) {
  if (error instanceof WebAssembly.RuntimeError) {
    console.error('Critical', error);
    state.criticalError = true;
  }
  throw error;
}

export default {
  fetch(request, env, ctx) {
    if (!direct || state.criticalError) return new Built(ctx, env).fetch(request);
    try {
      const answer = handler.call({ env, ctx }, request);
      return answer instanceof Promise ? answer.catch(watch) : answer;
    } catch (error) {
      return watch(error);
    }
  },
};
