//! Read counts: the `ReadCounter` Durable Object that owns them ([`object`], its tables in
//! [`schema`]), the Worker's client for it ([`client`]) and test-only faults ([`fault`]).
//! What either side decides is in `blog_core::counting`; these modules only do the I/O.

mod client;
mod fault;
mod object;
mod schema;

pub use blog_core::counting::Hit;
pub use client::{count, report, stats, stats_in_memory};
// `object::ReadCounter` needs no re-export: `#[durable_object]` exports it to JavaScript under
// its own name, the `class_name` wrangler.toml binds, from whichever module defines it.

use worker::{js_sys, Result};

/// `bytes` random bytes from the platform's `crypto.getRandomValues`, in hex: batch ids
/// (client) and daily salts (object).
fn random_hex(bytes: u32) -> Result<String> {
    use worker::wasm_bindgen::JsCast;
    let crypto = js_sys::Reflect::get(&js_sys::global(), &"crypto".into())?;
    let get_random_values: js_sys::Function =
        js_sys::Reflect::get(&crypto, &"getRandomValues".into())?.dyn_into()?;
    let array = js_sys::Uint8Array::new_with_length(bytes);
    get_random_values.call1(&crypto, &array)?;
    Ok(blog_core::hex::encode(&array.to_vec()))
}
