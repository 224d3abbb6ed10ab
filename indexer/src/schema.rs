//! The Tantivy schema of the post index, and typed handles to its fields.
//!
//! Every document is either a post (`kind = post`) or a tombstone (`kind = tombstone`).
//! Tombstones carry only the key and a version: they remember deleted posts (version
//! `i64::MAX`, so no late upsert can bring them back) and posts dropped by the filters (the
//! dropped version, so an older edit cannot sneak in). Keeping them in the index, rather than
//! beside it, makes them part of the same atomic commit: no crash can separate them.

use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};

/// Name of the body field's tokenizer: a whitespace tokenizer, because the indexer feeds the
/// body as already analyzed tokens joined by spaces (see `analysis::index_text`).
pub const BODY_TOKENIZER: &str = "chansearch_body";

/// `kind` of a post document.
pub const KIND_POST: &str = "post";
/// `kind` of a tombstone document.
pub const KIND_TOMBSTONE: &str = "tombstone";
/// `kind` of the tombstone a moderator's rejection leaves: unlike a drop's, it also refuses
/// the same version sent again (only an edit is judged again).
pub const KIND_REJECTED: &str = "rejected";
/// `visibility` value of a post everyone may see.
pub const VISIBLE_PUBLIC: &str = "public";
/// `visibility` value of a post hidden for everyone.
pub const VISIBLE_HIDDEN: &str = "hide";
/// `visibility` value of a post held for review.
pub const VISIBLE_REVIEW: &str = "review";
/// `media` value of a post without media (for the `media=none` filter).
pub const MEDIA_NONE: &str = "none";

/// `visibility` value of a post hidden in one country (`hide:KZ`).
pub fn visible_hidden_in(region: &str) -> String {
    format!("hide:{region}")
}

/// Field handles. Built once from the schema; cheap to copy around.
#[derive(Debug, Clone)]
pub struct Fields {
    /// `post` or `tombstone`.
    pub kind: Field,
    /// `"{channel_id}/{post_id}"`, the upsert and delete key.
    pub key: Field,
    /// Numeric channel id.
    pub channel_id: Field,
    /// Post id within the channel.
    pub post_id: Field,
    /// Late-edit version: Unix seconds of `edit_date`, else `date`; `i64::MAX` for deletions.
    pub version: Field,
    /// Channel username, lowercased, for `@channel` and `channel=`.
    pub channel: Field,
    /// Channel username as written (stored for display and URLs).
    pub channel_name: Field,
    /// Channel title (stored).
    pub channel_title: Field,
    /// Subscriber count.
    pub subscribers: Field,
    /// Publication time.
    pub date: Field,
    /// Last edit time (stored; absent when never edited).
    pub edit_date: Field,
    /// View, forward and reaction counts.
    pub views: Field,
    /// Forward count.
    pub forwards: Field,
    /// Reaction count.
    pub reactions: Field,
    /// ISO 639-1 language, or `und`.
    pub lang: Field,
    /// Original text, stored for snippets and re-analysis.
    pub text: Field,
    /// Analyzed tokens joined by spaces (positions indexed, not stored).
    pub body: Field,
    /// The text as the filters see it ([`filters::normalize::full`]: evasions undone, words
    /// split by spaces), positions indexed, not stored: what term and phrase rules look up
    /// to take down posts indexed before the rule existed.
    pub norm: Field,
    /// Hashtags and cashtags with their sign, lowercased.
    pub tags: Field,
    /// Mentioned usernames, lowercased.
    pub mentions: Field,
    /// Link domains and their parent domains.
    pub domains: Field,
    /// Links as given in the post (stored).
    pub links: Field,
    /// Media kinds, or `none`.
    pub media: Field,
    /// Media hashes.
    pub media_sha256: Field,
    /// `public`, `hide`, `hide:CC`, `review`: who may see the post.
    pub visibility: Field,
    /// JSON of the filter reasons (stored, for moderators).
    pub reasons: Field,
}

/// Builds the schema and its field handles.
pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let keyword = STRING | STORED | FAST;
    let body = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(BODY_TOKENIZER)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        kind: b.add_text_field("kind", STRING | FAST),
        key: b.add_text_field("key", STRING),
        channel_id: b.add_u64_field("channel_id", INDEXED | FAST | STORED),
        post_id: b.add_u64_field("post_id", FAST | STORED),
        version: b.add_i64_field("version", FAST),
        channel: b.add_text_field("channel", STRING | FAST),
        channel_name: b.add_text_field("channel_name", STORED),
        channel_title: b.add_text_field("channel_title", STORED),
        subscribers: b.add_u64_field("subscribers", FAST | STORED),
        date: b.add_date_field("date", INDEXED | FAST | STORED),
        edit_date: b.add_date_field("edit_date", STORED),
        views: b.add_u64_field("views", FAST | STORED),
        forwards: b.add_u64_field("forwards", FAST | STORED),
        reactions: b.add_u64_field("reactions", FAST | STORED),
        lang: b.add_text_field("lang", keyword.clone()),
        text: b.add_text_field("text", STORED),
        body: b.add_text_field("body", body.clone()),
        norm: b.add_text_field("norm", body),
        tags: b.add_text_field("tags", STRING | STORED),
        mentions: b.add_text_field("mentions", STRING | STORED),
        domains: b.add_text_field("domains", STRING | STORED),
        links: b.add_text_field("links", STORED),
        media: b.add_text_field("media", STRING | STORED),
        media_sha256: b.add_text_field("media_sha256", STRING | STORED),
        visibility: b.add_text_field("visibility", keyword),
        reasons: b.add_text_field("reasons", STORED),
    };
    (b.build(), fields)
}

/// The field handles of an existing index's schema; fails when a field is missing (an index
/// written by something else, or by an incompatible version).
pub fn fields_of(schema: &Schema) -> tantivy::Result<Fields> {
    let f = |name: &str| schema.get_field(name);
    Ok(Fields {
        kind: f("kind")?,
        key: f("key")?,
        channel_id: f("channel_id")?,
        post_id: f("post_id")?,
        version: f("version")?,
        channel: f("channel")?,
        channel_name: f("channel_name")?,
        channel_title: f("channel_title")?,
        subscribers: f("subscribers")?,
        date: f("date")?,
        edit_date: f("edit_date")?,
        views: f("views")?,
        forwards: f("forwards")?,
        reactions: f("reactions")?,
        lang: f("lang")?,
        text: f("text")?,
        body: f("body")?,
        norm: f("norm")?,
        tags: f("tags")?,
        mentions: f("mentions")?,
        domains: f("domains")?,
        links: f("links")?,
        media: f("media")?,
        media_sha256: f("media_sha256")?,
        visibility: f("visibility")?,
        reasons: f("reasons")?,
    })
}

/// The key term value of a post.
pub fn key_string(channel_id: u64, post_id: u64) -> String {
    format!("{channel_id}/{post_id}")
}
