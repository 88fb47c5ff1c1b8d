//! A personal technical blog served from Cloudflare Workers.
//!
//! The pure core (content model, front matter, Markdown, pages, routing, ranking, sync
//! planning) builds and tests on the host; `edge` is the thin Worker shell around it and
//! `src/bin/blog.rs` the author's command-line shell.

pub mod content;
pub mod date;
pub mod feeds;
pub mod html;
pub mod markdown;
pub mod pages;
pub mod ranking;
pub mod readers;
pub mod routes;
pub mod settings;
pub mod store;

#[cfg(not(target_arch = "wasm32"))]
pub mod assets;
#[cfg(not(target_arch = "wasm32"))]
pub mod diagnostic;
#[cfg(not(target_arch = "wasm32"))]
pub mod frontmatter;
#[cfg(not(target_arch = "wasm32"))]
pub mod highlight;
#[cfg(not(target_arch = "wasm32"))]
pub mod source;
#[cfg(not(target_arch = "wasm32"))]
pub mod sync;

#[cfg(target_arch = "wasm32")]
mod edge;
