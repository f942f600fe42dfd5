//! Turning a `serde_json` error into a `400` that names the offending field.
//!
//! Reports are deserialised straight into their typed schemas: unknown members are skipped without
//! being stored, which keeps memory close to the size of the data actually used (a detour through
//! `serde_json::Value` costs up to ~30× the body). `serde_json` reports where an error happened
//! (line and column of the last byte it consumed) but not the field, so on failure — and only
//! then — the text up to that byte is rescanned by [`path_at`] to recover the JSON path, e.g.
//! `disks[2].usedBytes`.

use crate::error::Error;

use super::values::{DICT_TOO_LONG, LIST_TOO_LONG};

/// Longest key kept in a rendered path; longer keys are cut.
const MAX_KEY_CHARS: usize = 64;
/// Most segments kept in a rendered path (the innermost ones).
const MAX_SEGMENTS: usize = 32;
/// Longest error message returned; longer ones (echoed input) are cut.
const MAX_MESSAGE_CHARS: usize = 300;
/// Path reported for errors about the body as a whole.
pub(super) const ROOT: &str = "body";

/// One step of a JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// An object member.
    Key(String),
    /// An array element.
    Index(usize),
}

/// What the scanner knows about one open container.
#[derive(Debug)]
enum Frame {
    /// An object.
    Object {
        /// The member being read.
        key: Option<String>,
        /// Whether the next string is a member key.
        want_key: bool,
    },
    /// An array.
    Array {
        /// Index of the element being read.
        index: usize,
    },
}

/// Maps a deserialisation error of `json` to the crate error: syntax errors become
/// `400 invalid_json` with the position, data errors `400 invalid_report` naming the field path.
pub(super) fn report_error(json: &[u8], err: &serde_json::Error) -> Error {
    let (line, column) = (err.line(), err.column());
    let full = err.to_string();
    let message = full
        .strip_suffix(&format!(" at line {line} column {column}"))
        .unwrap_or(&full);
    match err.classify() {
        serde_json::error::Category::Data => {
            let mut path = path_at(json, byte_offset(json, line, column));
            // A bound error fires on the entry past the bound; name the collection. `serde_json`
            // places it after that entry, or after the list's `]` when it was the last one.
            let over_list = message.starts_with(LIST_TOO_LONG)
                && matches!(path.last(), Some(Segment::Index(_)));
            if over_list || message.starts_with(DICT_TOO_LONG) {
                path.pop();
            }
            Error::InvalidReport {
                field: render(&path),
                message: truncate(&readable(message)),
            }
        }
        _ => Error::InvalidJson {
            message: truncate(message),
            line,
            column,
        },
    }
}

/// The byte offset just past the byte at 1-based `line` and `column` (where `serde_json` stopped).
fn byte_offset(json: &[u8], line: usize, column: usize) -> usize {
    let line_start = if line <= 1 {
        0
    } else {
        json.iter()
            .enumerate()
            .filter(|(_, &b)| b == b'\n')
            .nth(line - 2)
            .map_or(json.len(), |(i, _)| i + 1)
    };
    line_start.saturating_add(column).min(json.len())
}

/// The JSON path of the value being read at `offset`, found by scanning `json[..offset]` for
/// brackets, member keys and commas.
fn path_at(json: &[u8], offset: usize) -> Vec<Segment> {
    let text = &json[..offset.min(json.len())];
    let mut stack: Vec<Frame> = Vec::new();
    let mut i = 0;
    while i < text.len() {
        match text[i] {
            b'"' => {
                let end = string_end(text, i + 1);
                if let Some(Frame::Object { key, want_key }) = stack.last_mut() {
                    if *want_key {
                        let raw = &text[i + 1..end.min(text.len())];
                        *key = Some(String::from_utf8_lossy(raw).into_owned());
                        *want_key = false;
                    }
                }
                i = end + 1;
                continue;
            }
            b'{' => stack.push(Frame::Object {
                key: None,
                want_key: true,
            }),
            b'[' => stack.push(Frame::Array { index: 0 }),
            b'}' | b']' => {
                stack.pop();
            }
            b',' => match stack.last_mut() {
                Some(Frame::Array { index }) => *index += 1,
                Some(Frame::Object { key, want_key }) => {
                    *key = None;
                    *want_key = true;
                }
                None => {}
            },
            _ => {}
        }
        i += 1;
    }
    stack
        .into_iter()
        .filter_map(|frame| match frame {
            Frame::Object { key, .. } => key.map(Segment::Key),
            Frame::Array { index } => Some(Segment::Index(index)),
        })
        .collect()
}

/// Index of the closing quote of the string starting at `start` (or the end of `text`).
fn string_end(text: &[u8], start: usize) -> usize {
    let mut i = start;
    while i < text.len() {
        match text[i] {
            b'\\' => i += 2,
            b'"' => return i,
            _ => i += 1,
        }
    }
    text.len()
}

/// Renders a path as `a.b[2].c`; the root is [`ROOT`].
fn render(path: &[Segment]) -> String {
    if path.is_empty() {
        return ROOT.to_owned();
    }
    let skip = path.len().saturating_sub(MAX_SEGMENTS);
    let mut out = String::new();
    if skip > 0 {
        out.push('…');
    }
    for segment in &path[skip..] {
        match segment {
            Segment::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.extend(key.chars().take(MAX_KEY_CHARS));
            }
            Segment::Index(index) => {
                out.push('[');
                out.push_str(&index.to_string());
                out.push(']');
            }
        }
    }
    out
}

/// Rewrites serde's "invalid type: X, expected Y" as "expected Y, got X", with Rust type names
/// replaced by JSON ones.
fn readable(message: &str) -> String {
    let rest = message
        .strip_prefix("invalid type: ")
        .or_else(|| message.strip_prefix("invalid value: "));
    let Some((got, expected)) = rest.and_then(|r| r.rsplit_once(", expected ")) else {
        return message.to_owned();
    };
    let expected = match expected {
        "f64" | "f32" => "a number",
        "u64" | "u32" | "u16" | "u8" | "usize" => "a non-negative integer",
        "i64" | "i32" | "i16" | "i8" | "isize" => "an integer",
        "a sequence" => "an array",
        other if other.starts_with("struct ") || other == "a map" => "an object",
        other => other,
    };
    format!("expected {expected}, got {got}")
}

/// Cuts a message to [`MAX_MESSAGE_CHARS`] characters.
fn truncate(message: &str) -> String {
    match message.char_indices().nth(MAX_MESSAGE_CHARS) {
        Some((cut, _)) => format!("{}…", &message[..cut]),
        None => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;
    use crate::sources::agent::wire::values::{Bytes, Dict, List, Percent};

    #[derive(Debug, Default, Deserialize)]
    #[serde(default, rename_all = "camelCase")]
    struct Inner {
        total_bytes: Option<Bytes>,
        usage: Option<Percent>,
        name: Option<String>,
    }

    #[derive(Debug, Default, Deserialize)]
    #[serde(default, rename_all = "camelCase")]
    struct Outer {
        metrics: Option<Inner>,
        disks: List<Inner, 2>,
        labels: Dict<String, 2>,
        flag: Option<bool>,
    }

    fn field_error(json: &str) -> (String, String) {
        let err = serde_json::from_str::<Outer>(json).expect_err("must fail");
        match report_error(json.as_bytes(), &err) {
            Error::InvalidReport { field, message } => (field, message),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn names_nested_fields_wherever_the_value_ends() {
        for json in [
            r#"{"metrics":{"totalBytes":"x"}}"#,
            r#"{"metrics":{"totalBytes":"x","usage":1}}"#,
            r#"{"metrics":{"totalBytes":"x" , "usage":1}}"#,
            r#"{"metrics" : { "name":"a", "totalBytes" : -5 }}"#,
            "{\"metrics\":\n  {\"name\": \"a\",\n   \"totalBytes\": true\n}}",
            r#"{"other":{"a":[1,{"b":"}"}]},"metrics":{"x":"\"q\"","totalBytes":[]}}"#,
        ] {
            let (field, _) = field_error(json);
            assert_eq!(field, "metrics.totalBytes", "{json}");
        }
    }

    #[test]
    fn names_array_elements() {
        let (field, message) = field_error(r#"{"disks":[{"usage":1},{"usage":150}]}"#);
        assert_eq!(field, "disks[1].usage");
        assert!(message.contains("between 0 and 100"), "{message}");
        let (field, _) = field_error(r#"{"disks":[{},{"name":7}]}"#);
        assert_eq!(field, "disks[1].name");
    }

    #[test]
    fn names_the_collection_when_over_its_bound() {
        for json in [
            r#"{"disks":[{},{},{"usage":1}]}"#,
            r#"{"disks":[{},{},{"usage":1}],"flag":true}"#,
            r#"{"disks":[{},{},{},{}]}"#,
            r#"{"disks":[ {} , {} , {} , {} ] }"#,
            r#"{"metrics":{},"disks":[{},{},{}]}"#,
        ] {
            let (field, message) = field_error(json);
            assert_eq!(field, "disks", "{json}");
            assert!(message.contains("at most 2"), "{message}");
        }
        for json in [
            r#"{"labels":{"a":"1","b":"2","c":"3"}}"#,
            r#"{"labels":{"a":"1","b":"2","c":"3","d":"4"},"flag":true}"#,
        ] {
            let (field, message) = field_error(json);
            assert_eq!(field, "labels", "{json}");
            assert!(message.contains("at most 2"), "{message}");
        }
    }

    #[test]
    fn messages_read_as_expected_got() {
        let (field, message) = field_error(r#"{"flag":"yes"}"#);
        assert_eq!(field, "flag");
        assert_eq!(message, r#"expected a boolean, got string "yes""#);
        let (field, message) = field_error(r#"{"metrics":"x"}"#);
        assert_eq!(field, "metrics");
        assert_eq!(message, r#"expected an object, got string "x""#);
        let (field, message) = field_error(r#"{"metrics":{"totalBytes":"x"}}"#);
        assert_eq!(field, "metrics.totalBytes");
        assert_eq!(
            message,
            r#"expected a byte count (a non-negative integer), got string "x""#
        );
    }

    #[test]
    fn root_errors_name_the_body() {
        let (field, message) = field_error("5");
        assert_eq!(field, ROOT);
        assert_eq!(message, "expected an object, got integer `5`");
    }

    #[test]
    fn long_input_is_not_echoed_whole() {
        let long = "x".repeat(10_000);
        let (field, message) = field_error(&format!(r#"{{"{long}":1,"flag":"{long}"}}"#));
        assert_eq!(field, "flag");
        assert!(
            message.chars().count() <= MAX_MESSAGE_CHARS + 1,
            "{}",
            message.len()
        );
        let key_err = path_at(format!(r#"{{"{long}":"#).as_bytes(), long.len() + 4);
        assert_eq!(render(&key_err).chars().count(), MAX_KEY_CHARS);
    }

    #[test]
    fn syntax_errors_are_invalid_json_with_position() {
        let json = "{\"flag\":\n tru}";
        let err = serde_json::from_str::<Outer>(json).expect_err("syntax");
        match report_error(json.as_bytes(), &err) {
            Error::InvalidJson {
                line,
                column,
                message,
            } => {
                assert_eq!(line, 2);
                assert!(column > 0);
                assert!(!message.contains("at line"), "{message}");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
