//! One text field of a stored document, read without decoding the document.
//!
//! A regex rule's scan of the indexed posts reads the `text` of every one of them. Tantivy's
//! deserializer (`StoreReader::get`) decodes each value before it, allocating a `String` per
//! string value and validating UTF-8 through `Read::read_to_string`: with the per-document
//! lookup, that was over a third of the scan (profile in `benches/RESULTS.md`). Tantivy has no
//! API for a borrowed field, so this walks the document's bytes
//! (`StoreReader::get_document_bytes`) in tantivy's binary document format (doc store v2: a
//! VInt count of values, then per value a `u32` field id, a type code and the value) as far
//! as the field asked for, borrows it, and validates it with `simdutf8`.
//!
//! Only the value types chansearch stores are walked (text, u64, i64, f64, date, bool). Any
//! other type code, a truncated document or invalid UTF-8 answers [`Stored::Unknown`], and
//! the caller decodes that document with tantivy's deserializer instead, so a format change
//! costs speed, never a wrong answer. A test checks the walk against the deserializer on
//! documents of the real schema.

/// What a document holds in the field asked for.
#[derive(Debug, PartialEq, Eq)]
pub enum Stored<'a> {
    /// The field's first value, a string.
    Text(&'a str),
    /// The document has no string value in the field (a tombstone has no text).
    Absent,
    /// The walk met something it does not know: decode the document with tantivy.
    Unknown,
}

/// Tantivy's type codes (`tantivy::schema::document::type_codes`, which is private).
const TEXT_CODE: u8 = 0;
const U64_CODE: u8 = 1;
const I64_CODE: u8 = 2;
const DATE_CODE: u8 = 5;
const F64_CODE: u8 = 6;
const BOOL_CODE: u8 = 9;

/// The first string value of `field` in the stored document `doc`.
pub fn text_of(doc: &[u8], field: u32) -> Stored<'_> {
    walk(doc, field).unwrap_or(Stored::Unknown)
}

fn walk(doc: &[u8], field: u32) -> Option<Stored<'_>> {
    let mut at = 0;
    let values = vint(doc, &mut at)?;
    for _ in 0..values {
        let id = u32::from_le_bytes(doc.get(at..at + 4)?.try_into().ok()?);
        let code = *doc.get(at + 4)?;
        at += 5;
        match code {
            TEXT_CODE => {
                let len = usize::try_from(vint(doc, &mut at)?).ok()?;
                let bytes = doc.get(at..at.checked_add(len)?)?;
                if id == field {
                    return simdutf8::basic::from_utf8(bytes).ok().map(Stored::Text);
                }
                at += len;
            }
            U64_CODE | I64_CODE | DATE_CODE | F64_CODE => at += 8,
            BOOL_CODE => at += 1,
            _ => return None,
        }
        if at > doc.len() {
            return None;
        }
    }
    Some(Stored::Absent)
}

/// Tantivy's VInt: 7 bits per byte, low bits first, the last byte marked by its high bit.
fn vint(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(b & 0x7f) << shift;
        if b >= 0x80 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use tantivy::schema::Value;
    use tantivy::{Index, TantivyDocument};

    /// Documents of the real schema (posts and a tombstone) through a real doc store: the
    /// walk finds what tantivy's deserializer finds.
    #[test]
    fn the_walk_agrees_with_tantivys_deserializer() {
        let (schema, f) = indexer::schema::build();
        let index = Index::create_in_ram(schema);
        indexer::store::register_tokenizers(&index);
        let mut writer = index.writer_with_num_threads(1, 15_000_000).unwrap();
        let texts = [
            "plain ascii",
            "Кириллица и 😀 emoji, 中文, ünïcödé",
            "",
            &"long text ".repeat(400),
        ];
        for (i, text) in texts.iter().enumerate() {
            let mut doc = TantivyDocument::new();
            doc.add_u64(f.channel_id, 7);
            doc.add_u64(f.post_id, i as u64);
            doc.add_text(f.channel_name, "chan");
            doc.add_date(
                f.date,
                tantivy::DateTime::from_timestamp_secs(1_700_000_000),
            );
            doc.add_u64(f.views, 1 << 40);
            doc.add_text(f.lang, "ru");
            doc.add_text(f.text, text);
            doc.add_text(f.tags, "#after");
            writer.add_document(doc).unwrap();
        }
        let mut tombstone = TantivyDocument::new();
        tombstone.add_u64(f.channel_id, 7);
        tombstone.add_u64(f.post_id, 99);
        writer.add_document(tombstone).unwrap();
        writer.commit().unwrap();
        let searcher = index.reader().unwrap().searcher();
        let segment = &searcher.segment_readers()[0];
        let store = segment.get_store_reader(1).unwrap();
        for doc in 0..segment.max_doc() {
            let bytes = store.get_document_bytes(doc).unwrap();
            let decoded: TantivyDocument = store.get(doc).unwrap();
            let expected = decoded.get_first(f.text).and_then(|v| v.as_str());
            let walked = text_of(&bytes, f.text.field_id());
            match expected {
                Some(text) => assert_eq!(walked, Stored::Text(text), "doc {doc}"),
                None => assert_eq!(walked, Stored::Absent, "doc {doc}"),
            }
        }
    }

    #[test]
    fn what_the_walk_does_not_know_is_unknown() {
        // One value of field 3 with type code 3 (a facet).
        assert_eq!(text_of(&[0x81, 3, 0, 0, 0, 3, 0x80], 3), Stored::Unknown);
        // Truncated: the text's length says 5, two bytes follow.
        assert_eq!(
            text_of(&[0x81, 3, 0, 0, 0, 0, 0x85, b'a', b'b'], 3),
            Stored::Unknown
        );
        // Invalid UTF-8.
        assert_eq!(
            text_of(&[0x81, 3, 0, 0, 0, 0, 0x82, 0xff, 0xfe], 3),
            Stored::Unknown
        );
        // A u64 value cut short.
        assert_eq!(text_of(&[0x81, 1, 0, 0, 0, 1, 0, 0], 3), Stored::Unknown);
        // No value in the field.
        assert_eq!(
            text_of(&[0x81, 1, 0, 0, 0, 0, 0x81, b'a'], 3),
            Stored::Absent
        );
        assert_eq!(text_of(&[], 3), Stored::Unknown);
    }
}
