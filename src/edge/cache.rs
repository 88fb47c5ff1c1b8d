//! Per-isolate memory: the parsed index and rendered responses. Keys carry the content
//! version `blog sync` writes (and how many posts are visible), so nothing here is ever
//! served after new content lands or a scheduled post comes due: no TTL is involved.

use crate::content::SiteIndex;
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

/// A finished response, ready to send again.
pub struct Cached {
    pub body: Vec<u8>,
    pub content_type: &'static str,
    pub cache_control: String,
    pub etag: String,
}

/// Bounds on the page memory of one isolate (128 MB in all).
const MAX_ENTRIES: usize = 1024;
const MAX_BYTES: usize = 32 * 1024 * 1024;

#[derive(Default)]
struct Pages {
    map: HashMap<String, Rc<Cached>>,
    order: VecDeque<String>,
    bytes: usize,
}

thread_local! {
    static INDEX: RefCell<Option<Rc<SiteIndex>>> = const { RefCell::new(None) };
    static PAGES: RefCell<Pages> = RefCell::new(Pages::default());
}

/// The cached index, if it is the given version.
pub fn index(version: &str) -> Option<Rc<SiteIndex>> {
    INDEX.with(|i| i.borrow().as_ref().filter(|index| index.version == version).cloned())
}

pub fn set_index(index: Rc<SiteIndex>) {
    let stale = INDEX.with(|i| i.borrow().as_ref().map(|old| old.version != index.version).unwrap_or(false));
    if stale {
        // New content: every page rendered from the old version is dead weight now.
        PAGES.with(|p| *p.borrow_mut() = Pages::default());
    }
    INDEX.with(|i| *i.borrow_mut() = Some(index));
}

pub fn get(key: &str) -> Option<Rc<Cached>> {
    PAGES.with(|p| p.borrow().map.get(key).cloned())
}

pub fn put(key: String, page: Rc<Cached>) {
    PAGES.with(|p| {
        let mut pages = p.borrow_mut();
        let size = page.body.len() + key.len();
        if size > MAX_BYTES / 8 {
            return;
        }
        if let Some(old) = pages.map.insert(key.clone(), page) {
            pages.bytes -= old.body.len() + key.len();
        } else {
            pages.order.push_back(key);
        }
        pages.bytes += size;
        while pages.map.len() > MAX_ENTRIES || pages.bytes > MAX_BYTES {
            let Some(oldest) = pages.order.pop_front() else { break };
            if let Some(old) = pages.map.remove(&oldest) {
                pages.bytes -= old.body.len() + oldest.len();
            }
        }
    });
}
