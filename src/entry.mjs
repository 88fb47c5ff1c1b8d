// The Worker's entry module (wrangler.toml `main`), around the module wasm-bindgen makes
// (build/index.js, written by tools/build-worker.sh). It exports what workerd runs: the fetch
// handler, the Rust `fetch` export called directly, and the `ReadCounter` Durable Object.
//
// A Rust panic aborts the wasm instance (panic = "abort"): nothing may run on it again. The
// pieces that make a fresh one:
//  - workers-rs keeps a record of the instance, `globalThis.__worker_init_state`. Its panic
//    hook sets `criticalError`; its start function counts `instanceId` up at every
//    instantiation, and sets the panic hooks again (ours, `#[event(start)]`, too).
//  - wasm-bindgen's glue (built with `--experimental-reset-state-function` and
//    `--force-enable-abort-handler`) marks the instance terminated when a call into it traps,
//    and exports `__wbg_reset_state`, which makes a new instance of the same module (fresh
//    memory) and runs the start functions.
//  - Here, before each call into the wasm: if the last instance aborted, log it and make a
//    new one (`renew`). A `WebAssembly.RuntimeError` coming out of a call also marks it
//    aborted, as does one nobody caught (the `error` listener). A Rust object made on an old
//    instance (the Durable Object's) is made again, with the same arguments, on the new one.
// The request that panicked fails (or, in a `waitUntil` task, its work is lost); the next
// request gets a fresh instance. This is what worker-build's shim did, without the
// WorkerEntrypoint class and the Proxies it built for every request and every method call.
import * as wasm from '../build/index.js';

// Panics are logged with their JS stack: keep enough of it to reach the Rust frames.
Error.stackTraceLimit = 100;

/** workers-rs's record of the instance: `criticalError` once it aborted, `instanceId`. */
const state = wasm.__worker_init_state();

/** Makes a fresh instance if the current one aborted. Before every call into the wasm. */
function renew() {
  if (!state.criticalError) return;
  console.log('Reinitializing Wasm application');
  wasm.__wbg_reset_state();
  state.criticalError = false;
}

/** Marks the instance aborted if `error` is a trap out of the wasm (a panic, say). */
function noteAbort(error) {
  if (error instanceof WebAssembly.RuntimeError) {
    console.error('Critical', error);
    state.criticalError = true;
  }
}

/** Rethrows `error` once noted: for `catch` blocks and a promise's `catch`. */
function watch(error) {
  noteAbort(error);
  throw error;
}

/** `f()`, watched: its result as it is (a `Response` stays a `Response`), a promise watched. */
function watched(f) {
  try {
    const result = f();
    return result instanceof Promise ? result.catch(watch) : result;
  } catch (error) {
    return watch(error);
  }
}

// A trap in a task nothing awaits (a `waitUntil` future polled from a microtask).
globalThis.addEventListener?.('error', (event) => noteAbort(event.error));

export default {
  fetch(request, env, ctx) {
    return watched(() => {
      renew();
      return wasm.fetch(request, env, ctx);
    });
  },
};

/**
 * The Rust `#[durable_object]` class as workerd constructs it: every method of the Rust class,
 * each called on a Rust object made on the current instance (made again after an abort).
 */
export class ReadCounter {
  #args;
  #object;
  #instanceId;

  constructor(ctx, env) {
    this.#args = [ctx, env];
    this.#current();
  }

  /** The Rust object on the current instance. */
  #current() {
    renew();
    // A cheap call into the glue, which runs its guard: an instance it was told to replace
    // (an abort the panic hook did not see) is replaced now, not inside the method call
    // below, which would hand the new instance this object's old pointer.
    wasm.__worker_init_state();
    if (this.#instanceId !== state.instanceId) {
      try {
        this.#object = new wasm.ReadCounter(...this.#args);
      } catch (error) {
        // As worker-build's shim: an object that cannot be made means an instance to replace.
        state.criticalError = true;
        throw error;
      }
      this.#instanceId = state.instanceId;
    }
    return this.#object;
  }

  static {
    const rust = Object.getOwnPropertyDescriptors(wasm.ReadCounter.prototype);
    for (const [name, { value }] of Object.entries(rust)) {
      const own = name === 'constructor' || name === 'free' || name.startsWith('__');
      if (own || typeof value !== 'function') continue;
      ReadCounter.prototype[name] = function (...args) {
        return watched(() => this.#current()[name](...args));
      };
    }
  }
}
