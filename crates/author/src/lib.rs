//! The author's side: reading `content/` and `site.toml` (front matter, dates in the site's
//! time zone, files and images), highlighting code, and planning what a sync writes. It runs
//! on the author's machine only, so nothing here weighs on the Worker's wasm.

pub mod assets;
pub mod card;
pub mod cores;
pub mod dates;
pub mod devserver;
pub mod diagnostic;
pub mod diagram;
pub mod files;
pub mod frontmatter;
pub mod highlight;
pub mod images;
pub mod import;
pub mod lease;
pub mod limits;
pub mod math;
pub mod preview;
pub mod publish;
pub mod related;
pub mod search;
pub mod source;
pub mod stats;
pub mod sync;
pub mod watch;
pub mod wrangler;
pub(crate) mod yaml;
