//! The contract's post format (CONTRACT.md section 1): one JSON object per NDJSON line.
//!
//! [`parse_line`] turns raw bytes into an [`Op`] or a [`Reject`] whose message says what is
//! wrong in words a user can act on. It never panics on any input; the fuzz-style property test
//! in this module feeds it garbage to keep that true.
//!
//! The same types serialize back to the contract format, which is how `fixtures` writes corpora.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// Longest post text accepted, in bytes (the contract's 64 KiB).
pub const MAX_TEXT_BYTES: usize = 64 * 1024;

/// Longest raw line accepted, in bytes: the text limit plus room for the other fields and for
/// JSON escapes (`\u0430` is six bytes for a two-byte letter). Longer lines are rejected
/// without being parsed, so a huge line cannot make the parser allocate without bound.
pub const MAX_LINE_BYTES: usize = 6 * MAX_TEXT_BYTES + 16 * 1024;

/// One line of input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Insert or replace `(channel_id, post_id)`, unless the indexed version is newer.
    Upsert(Post),
    /// Remove one post. Telegram never reuses a post id, so a deleted key stays deleted.
    Delete {
        /// Channel of the post.
        channel_id: u64,
        /// Post within the channel.
        post_id: u64,
    },
    /// Remove every post of a channel indexed so far.
    DeleteChannel {
        /// Channel to remove.
        channel_id: u64,
    },
}

/// A channel post, as in the contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Post {
    /// Numeric channel id (positive).
    pub channel_id: u64,
    /// Public username, `[A-Za-z0-9_]{4,32}`.
    pub channel: String,
    /// Display title of the channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_title: Option<String>,
    /// Subscriber count at crawl time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subscribers: Option<u64>,
    /// Message id within the channel.
    pub post_id: u64,
    /// Publication time.
    #[serde(with = "time::serde::rfc3339")]
    pub date: OffsetDateTime,
    /// Last edit time; `None` when never edited.
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub edit_date: Option<OffsetDateTime>,
    /// Post text (may be empty when the post has media).
    pub text: String,
    /// View count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub views: Option<u64>,
    /// Forward count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forwards: Option<u64>,
    /// Total reactions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reactions: Option<u64>,
    /// ISO 639-1 language when the producer knows it; detected otherwise.
    #[serde(default)]
    pub lang: Option<String>,
    /// Links attached to the post (in addition to those in the text).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub links: Vec<String>,
    /// Attached media.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<Media>,
}

impl Post {
    /// The version used by the late-edit rule: `edit_date`, else `date`, in Unix seconds.
    pub fn version(&self) -> i64 {
        self.edit_date.unwrap_or(self.date).unix_timestamp()
    }

    /// The post's key.
    pub fn key(&self) -> PostKey {
        PostKey {
            channel_id: self.channel_id,
            post_id: self.post_id,
        }
    }
}

/// A post's identity: `(channel_id, post_id)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PostKey {
    /// Channel id.
    pub channel_id: u64,
    /// Post id.
    pub post_id: u64,
}

impl std::fmt::Display for PostKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.channel_id, self.post_id)
    }
}

/// One media item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Media {
    /// What it is.
    pub kind: MediaKind,
    /// Lowercase hex SHA-256 of the file.
    pub sha256: String,
}

/// Media kinds of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    /// A picture.
    Photo,
    /// A video or animation.
    Video,
    /// Any file.
    Document,
    /// Music or a voice note.
    Audio,
}

impl MediaKind {
    /// The name used in the contract and in the index.
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Photo => "photo",
            MediaKind::Video => "video",
            MediaKind::Document => "document",
            MediaKind::Audio => "audio",
        }
    }
}

/// Why a line was rejected; the message is meant for the person who produced the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject(pub String);

impl std::fmt::Display for Reject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn reject<T>(msg: impl Into<String>) -> Result<T, Reject> {
    Err(Reject(msg.into()))
}

/// The wire shape, with everything optional so that missing fields get a clear message instead
/// of serde's generic one.
#[derive(Deserialize)]
struct RawLine {
    op: Option<String>,
    channel_id: Option<serde_json::Number>,
    channel: Option<String>,
    channel_title: Option<String>,
    subscribers: Option<serde_json::Number>,
    post_id: Option<serde_json::Number>,
    date: Option<String>,
    edit_date: Option<String>,
    text: Option<String>,
    views: Option<serde_json::Number>,
    forwards: Option<serde_json::Number>,
    reactions: Option<serde_json::Number>,
    lang: Option<String>,
    #[serde(default)]
    links: Option<Vec<String>>,
    #[serde(default)]
    media: Option<Vec<RawMedia>>,
}

#[derive(Deserialize)]
struct RawMedia {
    kind: String,
    sha256: String,
}

/// Parses one NDJSON line (without its newline).
pub fn parse_line(line: &[u8]) -> Result<Op, Reject> {
    if line.len() > MAX_LINE_BYTES {
        return reject(format!(
            "line is {} bytes, over the {MAX_LINE_BYTES}-byte limit",
            line.len()
        ));
    }
    let text = match std::str::from_utf8(line) {
        Ok(text) => text,
        Err(e) => return reject(format!("invalid UTF-8 at byte {}", e.valid_up_to())),
    };
    let raw: RawLine = match serde_json::from_str(text) {
        Ok(raw) => raw,
        Err(e) if e.is_data() => return reject(format!("wrong field type: {e}")),
        Err(e) => return reject(format!("not a JSON object: {e}")),
    };
    match raw.op.as_deref().unwrap_or("upsert") {
        "upsert" => parse_upsert(raw).map(Op::Upsert),
        "delete" => Ok(Op::Delete {
            channel_id: id(raw.channel_id, "channel_id")?,
            post_id: id(raw.post_id, "post_id")?,
        }),
        "delete_channel" => Ok(Op::DeleteChannel {
            channel_id: id(raw.channel_id, "channel_id")?,
        }),
        other => reject(format!(
            "unknown op {other:?} (expected upsert, delete or delete_channel)"
        )),
    }
}

fn parse_upsert(raw: RawLine) -> Result<Post, Reject> {
    let channel_id = id(raw.channel_id, "channel_id")?;
    let post_id = id(raw.post_id, "post_id")?;
    let Some(channel) = raw.channel else {
        return reject("missing field channel");
    };
    if !is_username(&channel) {
        return reject(format!(
            "channel {channel:?} is not a public username ([A-Za-z0-9_]{{4,32}})"
        ));
    }
    let Some(date) = raw.date else {
        return reject("missing field date");
    };
    let date = timestamp(&date, "date")?;
    let edit_date = raw
        .edit_date
        .map(|d| timestamp(&d, "edit_date"))
        .transpose()?;
    let media = raw
        .media
        .unwrap_or_default()
        .into_iter()
        .map(media)
        .collect::<Result<Vec<_>, _>>()?;
    let Some(text) = raw.text else {
        return reject("missing field text");
    };
    if text.len() > MAX_TEXT_BYTES {
        return reject(format!(
            "text is {} bytes, over the {MAX_TEXT_BYTES}-byte limit",
            text.len()
        ));
    }
    if text.trim().is_empty() && media.is_empty() {
        return reject("text is empty and the post has no media");
    }
    let lang = match raw.lang {
        Some(l) if l.len() == 2 && l.bytes().all(|b| b.is_ascii_alphabetic()) => {
            Some(l.to_ascii_lowercase())
        }
        Some(l) => return reject(format!("lang {l:?} is not an ISO 639-1 code")),
        None => None,
    };
    Ok(Post {
        channel_id,
        channel,
        channel_title: raw.channel_title,
        subscribers: count(raw.subscribers, "subscribers")?,
        post_id,
        date,
        edit_date,
        text,
        views: count(raw.views, "views")?,
        forwards: count(raw.forwards, "forwards")?,
        reactions: count(raw.reactions, "reactions")?,
        lang,
        links: raw.links.unwrap_or_default(),
        media,
    })
}

fn id(n: Option<serde_json::Number>, field: &str) -> Result<u64, Reject> {
    match n {
        None => reject(format!("missing field {field}")),
        Some(n) => match n.as_u64() {
            Some(v) => Ok(v),
            None => reject(format!("{field} {n} is not a non-negative integer")),
        },
    }
}

fn count(n: Option<serde_json::Number>, field: &str) -> Result<Option<u64>, Reject> {
    n.map(|n| id(Some(n), field)).transpose()
}

fn timestamp(s: &str, field: &str) -> Result<OffsetDateTime, Reject> {
    match OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
        Ok(t) => Ok(t.to_offset(time::UtcOffset::UTC)),
        Err(e) => reject(format!("{field} {s:?} is not an RFC 3339 timestamp: {e}")),
    }
}

fn media(m: RawMedia) -> Result<Media, Reject> {
    let kind = match m.kind.as_str() {
        "photo" => MediaKind::Photo,
        "video" => MediaKind::Video,
        "document" => MediaKind::Document,
        "audio" => MediaKind::Audio,
        other => {
            return reject(format!(
                "media kind {other:?} is not one of photo, video, document, audio"
            ));
        }
    };
    if m.sha256.len() != 64 || !m.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return reject(format!("media sha256 {:?} is not 64 hex digits", m.sha256));
    }
    Ok(Media {
        kind,
        sha256: m.sha256.to_ascii_lowercase(),
    })
}

/// Whether `s` is a public channel username: `[A-Za-z0-9_]{4,32}`.
pub fn is_username(s: &str) -> bool {
    (4..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(line: &str) -> String {
        parse_line(line.as_bytes()).unwrap_err().0
    }

    const GOOD: &str = r#"{"channel_id":1001,"channel":"kz_tech","post_id":52,"date":"2026-11-20T10:15:00+05:00","text":"hi"}"#;

    #[test]
    fn minimal_upsert_parses_and_normalizes_offset() {
        let Op::Upsert(post) = parse_line(GOOD.as_bytes()).unwrap() else {
            panic!("not an upsert")
        };
        assert_eq!(post.key().to_string(), "1001/52");
        assert_eq!(post.date.hour(), 5);
        assert_eq!(post.version(), post.date.unix_timestamp());
        assert_eq!(post.date.offset(), time::UtcOffset::UTC);
    }

    #[test]
    fn deletes_parse() {
        assert_eq!(
            parse_line(br#"{"op":"delete","channel_id":1,"post_id":2}"#).unwrap(),
            Op::Delete {
                channel_id: 1,
                post_id: 2
            }
        );
        assert_eq!(
            parse_line(br#"{"op":"delete_channel","channel_id":7}"#).unwrap(),
            Op::DeleteChannel { channel_id: 7 }
        );
    }

    #[test]
    fn bad_lines_say_why() {
        assert!(reason("not json").starts_with("not a JSON object"));
        assert_eq!(
            reason(r#"{"channel":"kz_tech","post_id":1,"date":"2026-01-01T00:00:00Z","text":"x"}"#),
            "missing field channel_id"
        );
        assert!(
            reason(&GOOD.replace("2026-11-20T10:15:00+05:00", "yesterday")).contains("RFC 3339")
        );
        assert!(reason(&GOOD.replace("kz_tech", "kz")).contains("public username"));
        assert!(reason(&GOOD.replace("1001", "-5")).contains("non-negative"));
        assert!(reason(&GOOD.replace(r#""hi""#, r#""  ""#)).contains("no media"));
        assert!(reason(r#"{"op":"purge"}"#).contains("unknown op"));
        let long = GOOD.replace("hi", &"я".repeat(MAX_TEXT_BYTES / 2 + 1));
        assert!(
            reason(&long).contains("65536-byte limit"),
            "{}",
            reason(&long)
        );
        let mut bad_utf8 = GOOD.as_bytes().to_vec();
        bad_utf8[70] = 0xff;
        assert!(
            parse_line(&bad_utf8)
                .unwrap_err()
                .0
                .starts_with("invalid UTF-8")
        );
    }

    #[test]
    fn round_trips_through_serde() {
        let op = parse_line(GOOD.as_bytes()).unwrap();
        let json = serde_json::to_string(&op).unwrap();
        assert_eq!(parse_line(json.as_bytes()).unwrap(), op);
        assert!(json.contains(r#""date":"2026-11-20T05:15:00Z""#), "{json}");
    }

    #[test]
    fn never_panics_on_garbage() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for len in 0..400 {
            let mut bytes = GOOD.as_bytes().to_vec();
            for _ in 0..(len % 7 + 1) {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let at = (state as usize) % bytes.len();
                bytes[at] = (state >> 32) as u8;
            }
            let _ = parse_line(&bytes);
            let _ = parse_line(&bytes[..len % bytes.len()]);
        }
    }
}
