//! Bare Tantivy ingest: the ceiling the pipeline is measured against.
//!
//! Same schema and writer settings as the indexer, same stored fields; but the body is
//! analyzed by Tantivy's own chain (simple tokenizer, lowercase, Russian stemmer) inside the
//! writer threads, with no language detection, entity extraction, filters, upsert checks or
//! checkpoints.

use indexer::post::{Op, parse_line};
use indexer::schema;
use std::io::BufRead;
use std::path::Path;
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer,
};
use tantivy::{Index, TantivyDocument};

/// Indexes every upsert of the NDJSON file `input` into a new index in `dir`; returns the
/// number of posts indexed.
pub fn index_file(input: &Path, dir: &Path) -> anyhow::Result<u64> {
    let (schema, f) = schema::build();
    let index = Index::create_in_dir(dir, schema)?;
    register_tokenizer(&index);
    let mut writer = index.writer_with_num_threads(2, 400 << 20)?;
    let reader = std::io::BufReader::with_capacity(1 << 20, std::fs::File::open(input)?);
    let mut n = 0;
    for line in reader.split(b'\n') {
        let Ok(Op::Upsert(post)) = parse_line(&line?) else {
            continue;
        };
        let mut doc = TantivyDocument::default();
        doc.add_text(f.kind, schema::KIND_POST);
        doc.add_text(f.key, schema::key_string(post.channel_id, post.post_id));
        doc.add_u64(f.channel_id, post.channel_id);
        doc.add_u64(f.post_id, post.post_id);
        doc.add_i64(f.version, post.version());
        doc.add_text(f.channel, post.channel.to_ascii_lowercase());
        doc.add_text(f.channel_name, &post.channel);
        doc.add_u64(f.subscribers, post.subscribers.unwrap_or(0));
        doc.add_date(
            f.date,
            tantivy::DateTime::from_timestamp_secs(post.date.unix_timestamp()),
        );
        doc.add_u64(f.views, post.views.unwrap_or(0));
        doc.add_u64(f.forwards, post.forwards.unwrap_or(0));
        doc.add_u64(f.reactions, post.reactions.unwrap_or(0));
        doc.add_text(f.lang, "und");
        doc.add_text(f.text, &post.text);
        doc.add_text(f.body, &post.text);
        doc.add_text(f.visibility, schema::VISIBLE_PUBLIC);
        writer.add_document(doc)?;
        n += 1;
    }
    writer.commit()?;
    writer.wait_merging_threads()?;
    Ok(n)
}

/// Registers the bare body analyzer (simple tokenizer, long tokens removed, lowercase, Russian
/// Snowball stemmer) under the body field's tokenizer name; needed again when the index is
/// opened to analyze queries.
pub fn register_tokenizer(index: &Index) {
    index.tokenizers().register(
        schema::BODY_TOKENIZER,
        TextAnalyzer::builder(SimpleTokenizer::default())
            .filter(RemoveLongFilter::limit(40))
            .filter(LowerCaser)
            .filter(Stemmer::new(Language::Russian))
            .build(),
    );
}
