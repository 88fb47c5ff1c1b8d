//! Preview links: a draft or a scheduled post read before it is public, at
//! `/preview/{token}`. The token is the only secret; KV holds the preview under the SHA-256
//! of the token ([`key`]), so a lookup never compares the secret itself, and the record
//! names that hash again, compared in constant time ([`answer`]). What a preview URL
//! answers (the page, a 301 to the post once it is out, the ordinary 404) is decided here.

use crate::content::PostRecord;
use crate::date::Timestamp;
use crate::routes;
use sha2::{Digest, Sha256};

/// How many random bytes a token carries: 192 bits, drawn from the operating system by
/// `blog preview`.
pub const TOKEN_BYTES: usize = 24;
// At least 128 bits, or the build fails.
const _: () = assert!(TOKEN_BYTES * 8 >= 128);
/// A token as a URL writes it: lower-case hex, two digits a byte.
pub const TOKEN_LEN: usize = TOKEN_BYTES * 2;
/// Where previews live in KV: `preview/{sha256(token) in hex}`.
pub const KEY_PREFIX: &str = "preview/";
/// A preview is for one reviewer's browser: never kept by a shared cache, nor by the browser.
pub const CACHE_CONTROL: &str = "private, no-store";
/// Search engines that reach a preview anyway are told to leave it out.
pub const ROBOTS: (&str, &str) = ("x-robots-tag", "noindex");

/// A token from the random bytes `blog preview` drew.
pub fn token_of(random: &[u8; TOKEN_BYTES]) -> String {
    crate::hex::encode(random)
}

/// Whether `text` has a token's form. Only such a path segment is looked up; anything else
/// is a 404 without a read (the form is no secret).
pub fn is_token(text: &str) -> bool {
    text.len() == TOKEN_LEN
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The SHA-256 of a token, in hex: what KV and the record know it by.
pub fn token_hash(token: &str) -> String {
    crate::hex::encode(&Sha256::digest(token.as_bytes()))
}

/// The KV key of the preview a token opens.
pub fn key(token: &str) -> String {
    key_of_hash(&token_hash(token))
}

/// The KV key of a preview known by its token's hash (what `blog sync` knows it by: it
/// never needs the token).
pub fn key_of_hash(hash: &str) -> String {
    format!("{KEY_PREFIX}{hash}")
}

/// Whether two secrets (or their hashes) are equal, in a time that depends on their lengths
/// only, never on where they first differ.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    // Read through a black box, so the fold is not turned into an early exit.
    std::hint::black_box(diff) == 0
}

/// What a preview shows.
#[derive(Debug, Clone, PartialEq)]
pub enum State {
    /// A draft: its page, for as long as it stays a draft.
    Draft(Box<PostRecord>),
    /// A scheduled post: its page until its instant, then a 301 to the post, with no sync.
    Scheduled(Box<PostRecord>),
    /// The post is out: a 301 to it.
    Published { slug: String },
}

impl State {
    fn name(&self) -> &'static str {
        match self {
            State::Draft(_) => "draft",
            State::Scheduled(_) => "scheduled",
            State::Published { .. } => "published",
        }
    }
}

/// A preview as KV holds it: its token's hash and what it shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    pub token_hash: String,
    pub state: State,
}

/// The first line of a stored preview.
#[derive(serde::Serialize, serde::Deserialize)]
struct Header {
    token: String,
    state: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    slug: Option<String>,
}

impl Preview {
    /// A line of JSON (the token's hash and the state), then for a page the post as
    /// [`PostRecord::to_stored`] writes it.
    pub fn to_stored(&self) -> String {
        let header = Header {
            token: self.token_hash.clone(),
            state: self.state.name().into(),
            slug: match &self.state {
                State::Published { slug } => Some(slug.clone()),
                _ => None,
            },
        };
        let mut out = serde_json::to_string(&header).expect("plain data serialises");
        if let State::Draft(post) | State::Scheduled(post) = &self.state {
            out.push('\n');
            out.push_str(&post.to_stored());
        }
        out
    }

    pub fn from_stored(bytes: &[u8]) -> Result<Self, String> {
        let (head, rest) = match bytes.iter().position(|&b| b == b'\n') {
            Some(i) => (&bytes[..i], Some(&bytes[i + 1..])),
            None => (bytes, None),
        };
        let header: Header = serde_json::from_slice(head).map_err(|e| e.to_string())?;
        let post = || -> Result<Box<PostRecord>, String> {
            let rest = rest.ok_or("a preview page without its post")?;
            Ok(Box::new(PostRecord::from_stored(rest)?))
        };
        let state = match header.state.as_str() {
            "draft" => State::Draft(post()?),
            "scheduled" => State::Scheduled(post()?),
            "published" => State::Published {
                slug: header.slug.ok_or("a published preview without its slug")?,
            },
            other => return Err(format!("unknown preview state {other:?}")),
        };
        Ok(Preview {
            token_hash: header.token,
            state,
        })
    }
}

impl crate::kv::Stored for Preview {
    fn from_stored(bytes: &[u8]) -> Result<Self, String> {
        Preview::from_stored(bytes)
    }
}

/// What a preview URL answers.
#[derive(Debug, PartialEq)]
pub enum Answer<'a> {
    /// The post's page, marked as a preview ([`crate::pages::preview`]).
    Page(&'a PostRecord),
    /// 301 to the published post.
    Redirect(String),
    /// The ordinary 404: no such preview, or a record that is not this token's.
    NotFound,
}

/// What `/preview/{token}` answers at `now`, given the record KV holds under [`key`] of it.
pub fn answer<'a>(token: &str, record: Option<&'a Preview>, now: Timestamp) -> Answer<'a> {
    let Some(record) = record else {
        return Answer::NotFound;
    };
    if !same(token_hash(token).as_bytes(), record.token_hash.as_bytes()) {
        return Answer::NotFound;
    }
    match &record.state {
        State::Draft(post) => Answer::Page(post),
        State::Scheduled(post) if post.meta.published > now => Answer::Page(post),
        State::Scheduled(post) => Answer::Redirect(routes::post_path(&post.meta.slug)),
        State::Published { slug } => Answer::Redirect(routes::post_path(slug)),
    }
}

/// The headers of every preview answer, the page and its 301: besides the security headers.
pub fn headers() -> [(&'static str, &'static str); 2] {
    [("cache-control", CACHE_CONTROL), ROBOTS]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::PostMeta;

    fn post(slug: &str, published: Timestamp) -> Box<PostRecord> {
        let meta = PostMeta {
            slug: slug.into(),
            title: "A draft".into(),
            summary: "S.".into(),
            published,
            ..PostMeta::default()
        };
        Box::new(PostRecord::of_meta(meta, "<p>Body.</p>\n".into()))
    }

    const TOKEN: &str = "00112233445566778899aabbccddeeff0011223344556677";

    fn preview(state: State) -> Preview {
        Preview {
            token_hash: token_hash(TOKEN),
            state,
        }
    }

    #[test]
    fn a_token_is_192_random_bits_in_lower_case_hex() {
        let token = token_of(&[0xab; TOKEN_BYTES]);
        assert_eq!(token.len(), 48);
        assert!(is_token(&token) && is_token(TOKEN));
        for bad in [
            "",
            &TOKEN[1..],
            &format!("{TOKEN}0"),
            &TOKEN.to_uppercase(),
            "g0112233445566778899aabbccddeeff0011223344556677",
            "../112233445566778899aabbccddeeff0011223344556677",
        ] {
            assert!(!is_token(bad), "{bad}");
        }
    }

    #[test]
    fn a_preview_is_kept_under_the_hash_of_its_token_never_the_token() {
        let key = key(TOKEN);
        assert_eq!(
            key,
            format!("preview/{}", crate::hex::encode(&Sha256::digest(TOKEN)))
        );
        assert_eq!(key.len(), "preview/".len() + 64);
        assert!(!key.contains(TOKEN));
        let stored = preview(State::Draft(post("a", 0))).to_stored();
        assert!(!stored.contains(TOKEN), "{stored}");
        assert!(key.len() <= crate::kv::MAX_KEY_BYTES);
    }

    #[test]
    fn secrets_are_equal_only_when_every_byte_is() {
        assert!(same(b"abc", b"abc"));
        assert!(same(b"", b""));
        assert!(!same(b"abc", b"abd"));
        assert!(!same(b"abc", b"xbc"));
        assert!(!same(b"abc", b"abcd"));
    }

    #[test]
    fn a_draft_preview_is_its_page_for_as_long_as_it_is_a_draft() {
        let record = preview(State::Draft(post("a", 0)));
        let Answer::Page(page) = answer(TOKEN, Some(&record), i64::MAX) else {
            panic!("not a page");
        };
        assert_eq!(page.meta.slug, "a");
    }

    #[test]
    fn a_scheduled_preview_answers_301_to_the_post_from_its_instant_on() {
        let record = preview(State::Scheduled(post("later", 1000)));
        assert!(matches!(answer(TOKEN, Some(&record), 999), Answer::Page(_)));
        for now in [1000, 5000] {
            assert_eq!(
                answer(TOKEN, Some(&record), now),
                Answer::Redirect("/posts/later".into())
            );
        }
    }

    #[test]
    fn a_published_preview_answers_301_to_the_post() {
        let record = preview(State::Published { slug: "a".into() });
        assert_eq!(
            answer(TOKEN, Some(&record), 0),
            Answer::Redirect("/posts/a".into())
        );
    }

    #[test]
    fn a_missing_or_someone_elses_record_is_the_ordinary_404() {
        assert_eq!(answer(TOKEN, None, 0), Answer::NotFound);
        let mut other = preview(State::Draft(post("a", 0)));
        other.token_hash = token_hash("another token");
        assert_eq!(answer(TOKEN, Some(&other), 0), Answer::NotFound);
        let wrong = TOKEN.replace('0', "1");
        let record = preview(State::Draft(post("a", 0)));
        assert_eq!(answer(&wrong, Some(&record), 0), Answer::NotFound);
    }

    #[test]
    fn a_stored_preview_reads_back_as_written() {
        for state in [
            State::Draft(post("a", 0)),
            State::Scheduled(post("b", 7)),
            State::Published { slug: "c".into() },
        ] {
            let record = preview(state);
            let back = Preview::from_stored(record.to_stored().as_bytes()).unwrap();
            assert_eq!(back, record);
        }
        assert!(Preview::from_stored(b"{\"token\":\"x\",\"state\":\"draft\"}").is_err());
        assert!(Preview::from_stored(b"{\"token\":\"x\",\"state\":\"odd\"}").is_err());
        assert!(Preview::from_stored(b"not json").is_err());
    }

    #[test]
    fn every_preview_answer_is_private_unstored_and_noindex() {
        let headers = headers();
        assert!(headers.contains(&("cache-control", "private, no-store")));
        assert!(headers.contains(&("x-robots-tag", "noindex")));
    }
}
