//! The rule for what an isolate keeps of the pages it has answered: bounded by count and by
//! bytes, oldest first out, and the pages built from the post list dropped when the content
//! version changes (see [`crate::caching`] for why a post's page may stay).
//!
//! The Worker holds one of these per isolate; the pages in it are the Worker's own type.

use std::collections::{HashMap, VecDeque};
use std::rc::Rc;

/// How long a page kept in memory stays right.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lasts {
    /// Until the content version changes: a page built from the post list.
    Version,
    /// As long as its key is asked for: the key names everything the page shows.
    Key,
}

/// Pages by key, each with its size in bytes (body and key).
pub struct Memory<P> {
    map: HashMap<String, (Rc<P>, Lasts, usize)>,
    order: VecDeque<String>,
    bytes: usize,
    max_entries: usize,
    max_bytes: usize,
}

impl<P> Memory<P> {
    /// Bounds for one isolate (128 MB in all): the Worker keeps 1,024 pages, 32 MB.
    pub fn new(max_entries: usize, max_bytes: usize) -> Self {
        Memory {
            map: HashMap::new(),
            order: VecDeque::new(),
            bytes: 0,
            max_entries,
            max_bytes,
        }
    }

    pub fn get(&self, key: &str) -> Option<Rc<P>> {
        self.map.get(key).map(|(page, _, _)| page.clone())
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The bytes held: bodies and keys.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Keeps `page` (of `body_len` bytes) under `key`. One page over an eighth of the bytes
    /// is not kept at all (it would push out many others); then the oldest go until the
    /// bounds hold.
    pub fn put(&mut self, key: String, page: Rc<P>, body_len: usize, lasts: Lasts) {
        let size = body_len + key.len();
        if size > self.max_bytes / 8 {
            return;
        }
        if let Some((_, _, old)) = self.map.insert(key.clone(), (page, lasts, size)) {
            self.bytes -= old;
        } else {
            self.order.push_back(key);
        }
        self.bytes += size;
        while self.map.len() > self.max_entries || self.bytes > self.max_bytes {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some((_, _, old)) = self.map.remove(&oldest) {
                self.bytes -= old;
            }
        }
    }

    /// New content: the pages built from the old post list are dead weight now.
    pub fn drop_version_pages(&mut self) {
        self.map.retain(|_, (_, lasts, _)| *lasts == Lasts::Key);
        let map = &self.map;
        self.order.retain(|key| map.contains_key(key));
        self.bytes = self.map.values().map(|(_, _, size)| size).sum();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(text: &str) -> Rc<String> {
        Rc::new(text.to_string())
    }

    fn keep(memory: &mut Memory<String>, key: &str, body: &str, lasts: Lasts) {
        memory.put(key.into(), page(body), body.len(), lasts);
    }

    #[test]
    fn a_kept_page_is_found_by_its_key() {
        let mut memory = Memory::new(10, 1_000);
        keep(&mut memory, "k", "body", Lasts::Key);
        assert_eq!(memory.get("k").as_deref().map(String::as_str), Some("body"));
        assert!(memory.get("other").is_none());
        assert_eq!(memory.bytes(), 5);
    }

    #[test]
    fn the_oldest_page_goes_first_when_there_are_too_many() {
        let mut memory = Memory::new(2, 1_000);
        keep(&mut memory, "a", "1", Lasts::Key);
        keep(&mut memory, "b", "2", Lasts::Key);
        keep(&mut memory, "c", "3", Lasts::Key);
        assert!(memory.get("a").is_none());
        assert!(memory.get("b").is_some() && memory.get("c").is_some());
        assert_eq!(memory.len(), 2);
    }

    #[test]
    fn pages_go_until_the_bytes_fit() {
        let mut memory = Memory::new(100, 800);
        for key in ["a", "b", "c", "d", "e", "f", "g", "h"] {
            keep(&mut memory, key, &"x".repeat(99), Lasts::Key);
        }
        assert_eq!(memory.bytes(), 800);
        keep(&mut memory, "i", &"x".repeat(99), Lasts::Key);
        assert!(memory.get("a").is_none() && memory.get("i").is_some());
        assert!(memory.bytes() <= 800);
    }

    #[test]
    fn a_page_over_an_eighth_of_the_bytes_is_not_kept() {
        let mut memory = Memory::new(100, 800);
        keep(&mut memory, "big", &"x".repeat(100), Lasts::Key);
        assert!(memory.get("big").is_none());
        keep(&mut memory, "fits", &"x".repeat(96), Lasts::Key);
        assert!(memory.get("fits").is_some());
    }

    #[test]
    fn a_page_kept_again_replaces_the_old_one_and_its_bytes() {
        let mut memory = Memory::new(10, 1_000);
        keep(&mut memory, "k", "long body", Lasts::Key);
        keep(&mut memory, "k", "short", Lasts::Key);
        assert_eq!(
            memory.get("k").as_deref().map(String::as_str),
            Some("short")
        );
        assert_eq!((memory.len(), memory.bytes()), (1, 6));
    }

    #[test]
    fn new_content_drops_the_list_pages_and_keeps_the_post_pages() {
        let mut memory = Memory::new(10, 1_000);
        keep(&mut memory, "index", "i", Lasts::Version);
        keep(&mut memory, "post", "p", Lasts::Key);
        keep(&mut memory, "feed", "f", Lasts::Version);
        memory.drop_version_pages();
        assert!(memory.get("index").is_none() && memory.get("feed").is_none());
        assert!(memory.get("post").is_some());
        assert_eq!((memory.len(), memory.bytes()), (1, 5));
        // The dropped keys left the eviction order too: the post is now the oldest.
        let mut memory2 = Memory::new(1, 1_000);
        keep(&mut memory2, "v", "1", Lasts::Version);
        keep(&mut memory2, "k", "2", Lasts::Key);
        assert!(memory2.get("v").is_none());
    }
}
