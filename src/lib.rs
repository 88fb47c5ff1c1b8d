//! The Worker: the fetch entry, the handlers that read KV and answer with what the core
//! renders, and the read counter's Durable Object. It only builds for wasm32; on the host
//! this crate is empty, and everything it decides with is in `blog-core`, tested there.

#![cfg(target_arch = "wasm32")]

mod edge;
