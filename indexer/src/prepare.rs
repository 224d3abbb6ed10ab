//! Preparation: one raw line to a ready-to-write document, on the rayon threads.
//!
//! Everything per-post and CPU-bound happens here, in parallel: JSON parsing and validation,
//! language detection, entity extraction, analysis, the filters' verdict, and building the
//! Tantivy document. What is left for the single writer thread is ordering-sensitive work
//! only (the late-edit check and the delete/add pair), which is cheap.
//!
//! [`Preparer::prepare`] is pure apart from reading the channel priors snapshot it is given:
//! the same line and the same priors always give the same result.

use crate::analysis::{self, entities};
use crate::lang::{ChannelPriors, Detected, LangDetector};
use crate::post::{Op, Post, PostKey, Reject, parse_line};
use crate::schema::{self, Fields};
use filters::{Action, Policy, Subject, Verdict};
use std::sync::Arc;
use tantivy::TantivyDocument;

/// The outcome of preparing one line.
#[derive(Debug)]
pub enum Prepared {
    /// A post to index (or to drop, when the filters said so).
    Upsert(PreparedPost),
    /// Delete one post.
    Delete(PostKey),
    /// Delete every post of a channel.
    DeleteChannel(u64),
    /// The line is bad; nothing is written.
    Rejected(Reject),
}

/// A prepared upsert.
#[derive(Debug)]
pub struct PreparedPost {
    /// The post's key.
    pub key: PostKey,
    /// Late-edit version (Unix seconds).
    pub version: i64,
    /// The language the post was indexed in, when detected rather than given.
    pub detected: Option<Detected>,
    /// The filters' decision.
    pub verdict: Verdict,
    /// The document to write; `None` when the verdict is drop.
    pub doc: Option<TantivyDocument>,
}

/// Turns lines into [`Prepared`] values. Shared by reference across rayon threads.
pub struct Preparer {
    fields: Fields,
    detector: LangDetector,
    policy: Arc<dyn Policy>,
}

impl Preparer {
    /// A preparer writing documents for `fields` and asking `policy` for verdicts.
    pub fn new(fields: Fields, policy: Arc<dyn Policy>) -> Preparer {
        Preparer {
            fields,
            detector: LangDetector::new(),
            policy,
        }
    }

    /// Prepares one raw line. `priors` is the channel-language snapshot for this batch.
    pub fn prepare(&self, line: &[u8], priors: &ChannelPriors) -> Prepared {
        match parse_line(line) {
            Err(reject) => Prepared::Rejected(reject),
            Ok(Op::Delete {
                channel_id,
                post_id,
            }) => Prepared::Delete(PostKey {
                channel_id,
                post_id,
            }),
            Ok(Op::DeleteChannel { channel_id }) => Prepared::DeleteChannel(channel_id),
            Ok(Op::Upsert(post)) => Prepared::Upsert(self.prepare_post(post, priors)),
        }
    }

    /// Prepares a parsed post.
    pub fn prepare_post(&self, post: Post, priors: &ChannelPriors) -> PreparedPost {
        let entities = entities::extract(&post.text, &post.links);
        let media_sha256: Vec<String> = post.media.iter().map(|m| m.sha256.clone()).collect();
        // Language first (a few microseconds): classifiers score only the languages they were
        // trained on.
        let (lang_code, lang, detected) = match post.lang.as_deref() {
            Some(code) => (code.to_string(), crate::lang::Lang::from_code(code), None),
            None => {
                let d = self
                    .detector
                    .detect(&post.text, priors.prior(post.channel_id));
                (d.code.to_string(), d.lang, Some(d))
            }
        };
        let normalized = filters::normalize::Normalized::new(&post.text);
        let verdict = self.policy.verdict_normalized(
            &Subject {
                channel_id: post.channel_id,
                channel: &post.channel,
                text: &post.text,
                hashtags: &entities.tags,
                domains: &entities.domains,
                media_sha256: &media_sha256,
                lang: Some(&lang_code),
            },
            &normalized,
        );
        let key = post.key();
        let version = post.version();
        if verdict.action == Action::Drop {
            return PreparedPost {
                key,
                version,
                detected,
                verdict,
                doc: None,
            };
        }
        let doc = self.document(
            &post,
            &lang_code,
            lang,
            &entities,
            &verdict,
            normalized.full,
        );
        PreparedPost {
            key,
            version,
            detected,
            verdict,
            doc: Some(doc),
        }
    }

    fn document(
        &self,
        post: &Post,
        lang_code: &str,
        lang: Option<crate::lang::Lang>,
        entities: &entities::Entities,
        verdict: &Verdict,
        normalized: String,
    ) -> TantivyDocument {
        let f = &self.fields;
        let mut doc = TantivyDocument::default();
        doc.add_text(f.kind, schema::KIND_POST);
        doc.add_text(f.key, schema::key_string(post.channel_id, post.post_id));
        doc.add_u64(f.channel_id, post.channel_id);
        doc.add_u64(f.post_id, post.post_id);
        doc.add_i64(f.version, post.version());
        doc.add_text(f.channel, post.channel.to_ascii_lowercase());
        doc.add_text(f.channel_name, &post.channel);
        if let Some(title) = &post.channel_title {
            doc.add_text(f.channel_title, title);
        }
        doc.add_u64(f.subscribers, post.subscribers.unwrap_or(0));
        doc.add_date(
            f.date,
            tantivy::DateTime::from_timestamp_secs(post.date.unix_timestamp()),
        );
        if let Some(edit) = post.edit_date {
            doc.add_date(
                f.edit_date,
                tantivy::DateTime::from_timestamp_secs(edit.unix_timestamp()),
            );
        }
        doc.add_u64(f.views, post.views.unwrap_or(0));
        doc.add_u64(f.forwards, post.forwards.unwrap_or(0));
        doc.add_u64(f.reactions, post.reactions.unwrap_or(0));
        doc.add_text(f.lang, lang_code);
        doc.add_text(f.text, &post.text);
        let mut body = String::with_capacity(post.text.len());
        analysis::index_text(&post.text, lang, &mut body);
        doc.add_text(f.body, body);
        doc.add_text(f.norm, normalized);
        for tag in &entities.tags {
            doc.add_text(f.tags, tag);
        }
        for mention in &entities.mentions {
            doc.add_text(f.mentions, mention);
        }
        for domain in &entities.domains {
            for d in entities::domain_and_parents(domain) {
                doc.add_text(f.domains, d);
            }
        }
        for link in &post.links {
            doc.add_text(f.links, link);
        }
        if post.media.is_empty() {
            doc.add_text(f.media, schema::MEDIA_NONE);
        }
        for m in &post.media {
            doc.add_text(f.media, m.kind.as_str());
            doc.add_text(f.media_sha256, &m.sha256);
        }
        match &verdict.action {
            Action::Index | Action::Drop => doc.add_text(f.visibility, schema::VISIBLE_PUBLIC),
            Action::Hide { regions } if regions.is_empty() => {
                doc.add_text(f.visibility, schema::VISIBLE_HIDDEN)
            }
            Action::Hide { regions } => {
                for r in regions {
                    doc.add_text(f.visibility, schema::visible_hidden_in(r));
                }
            }
            Action::Review => doc.add_text(f.visibility, schema::VISIBLE_REVIEW),
        }
        if !verdict.reasons.is_empty() {
            let reasons = serde_json::to_string(&verdict.reasons).unwrap_or_default();
            doc.add_text(f.reasons, reasons);
        }
        doc
    }
}
