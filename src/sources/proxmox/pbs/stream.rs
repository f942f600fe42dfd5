//! Incremental reading of a `{"data": [ … ]}` envelope: [`DataArraySplitter`] is fed the body
//! chunk by chunk as it arrives and hands out each element of the `data` array as its own JSON
//! text, so a list of 200,000 snapshots is never held in memory — only the element being read.
//!
//! The splitter only tracks structure (nesting, strings, escapes); each element is then parsed by
//! `serde_json` on its own, so a malformed element costs that element only.

/// Largest single array element accepted (a snapshot entry is well under 1 KiB, but its `files`
/// list and comment vary).
pub const MAX_ELEMENT_BYTES: usize = 1024 * 1024;

/// Where in the envelope the splitter is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Before the top-level `{`.
    Start,
    /// Inside the envelope object, looking for the `data` member.
    Envelope,
    /// Inside the `data` array.
    Array,
    /// After the envelope (or the array) closed; the rest is ignored.
    Done,
}

/// Splits the `data` array of a streamed envelope into its elements (see the module docs).
#[derive(Debug)]
pub struct DataArraySplitter {
    phase: Phase,
    /// Nesting depth while in the envelope (1 = directly inside the top-level object).
    depth: usize,
    in_string: bool,
    escape: bool,
    /// At depth 1: whether the next string is a member name.
    expect_key: bool,
    /// The member name being read at depth 1 (only whether it is `data` matters).
    key: Vec<u8>,
    reading_key: bool,
    /// The last member name at depth 1 was `data`.
    key_is_data: bool,
    /// A `:` after `data` was seen: the next value is the data.
    awaiting_data: bool,
    /// The element being read.
    element: Vec<u8>,
    element_active: bool,
    element_depth: usize,
    /// Whether a `data` array was found at all.
    found: bool,
}

impl Default for DataArraySplitter {
    fn default() -> Self {
        DataArraySplitter {
            phase: Phase::Start,
            depth: 0,
            in_string: false,
            escape: false,
            expect_key: false,
            key: Vec::with_capacity(8),
            reading_key: false,
            key_is_data: false,
            awaiting_data: false,
            element: Vec::with_capacity(1024),
            element_active: false,
            element_depth: 0,
            found: false,
        }
    }
}

impl DataArraySplitter {
    /// A splitter at the start of a body.
    pub fn new() -> Self {
        DataArraySplitter::default()
    }

    /// Feeds the next chunk; calls `on_element` with the JSON text of every element completed in
    /// it. Fails on a body that is not an envelope with a `data` list, or an oversized element.
    pub fn feed(&mut self, chunk: &[u8], mut on_element: impl FnMut(&[u8])) -> Result<(), String> {
        for &b in chunk {
            match self.phase {
                Phase::Start => {
                    if b == b'{' {
                        self.phase = Phase::Envelope;
                        self.depth = 1;
                        self.expect_key = true;
                    } else if !b.is_ascii_whitespace() {
                        return Err("expected a JSON object".into());
                    }
                }
                Phase::Envelope => self.envelope_byte(b)?,
                Phase::Array => self.array_byte(b, &mut on_element)?,
                Phase::Done => return Ok(()),
            }
        }
        Ok(())
    }

    /// Checks that the body was complete.
    pub fn finish(&self) -> Result<(), String> {
        match self.phase {
            Phase::Done => Ok(()),
            Phase::Start => Err("empty body".into()),
            Phase::Envelope | Phase::Array => Err("truncated body".into()),
        }
    }

    /// Whether a `data` array was seen (false for `{"data": null}` or no `data` member).
    pub fn found_array(&self) -> bool {
        self.found
    }

    /// One byte of the envelope object outside the data array.
    fn envelope_byte(&mut self, b: u8) -> Result<(), String> {
        if self.in_string {
            if self.escape {
                self.escape = false;
            } else if b == b'\\' {
                self.escape = true;
            } else if b == b'"' {
                self.in_string = false;
                if self.reading_key {
                    self.reading_key = false;
                    self.key_is_data = self.key == b"data";
                }
                return Ok(());
            }
            // Escapes are kept, so an escaped name never equals `data`.
            if self.reading_key && self.key.len() <= 8 {
                self.key.push(b);
            }
            return Ok(());
        }
        if b.is_ascii_whitespace() {
            return Ok(());
        }
        if self.awaiting_data && self.depth == 1 {
            self.awaiting_data = false;
            return match b {
                b'[' => {
                    self.phase = Phase::Array;
                    self.found = true;
                    Ok(())
                }
                // `null` data: no elements; the remaining letters are skipped as plain bytes.
                b'n' => Ok(()),
                _ => Err("the data member is not a list".into()),
            };
        }
        match b {
            b'"' => {
                self.in_string = true;
                if self.depth == 1 && self.expect_key {
                    self.reading_key = true;
                    self.key.clear();
                }
            }
            b':' if self.depth == 1 => {
                self.expect_key = false;
                self.awaiting_data = self.key_is_data;
            }
            b',' if self.depth == 1 => {
                self.expect_key = true;
                self.key_is_data = false;
            }
            b'{' | b'[' => self.depth += 1,
            b'}' | b']' => {
                self.depth = self.depth.saturating_sub(1);
                if self.depth == 0 {
                    self.phase = Phase::Done;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// One byte inside the data array.
    fn array_byte(&mut self, b: u8, on_element: &mut impl FnMut(&[u8])) -> Result<(), String> {
        if !self.element_active {
            match b {
                b']' => {
                    self.phase = Phase::Done;
                    return Ok(());
                }
                b',' => return Ok(()),
                _ if b.is_ascii_whitespace() => return Ok(()),
                _ => {
                    self.element_active = true;
                    self.element.clear();
                    self.element_depth = 0;
                    self.in_string = false;
                    self.escape = false;
                }
            }
        }
        if self.in_string {
            self.push(b)?;
            if self.escape {
                self.escape = false;
            } else if b == b'\\' {
                self.escape = true;
            } else if b == b'"' {
                self.in_string = false;
            }
            return Ok(());
        }
        match b {
            b'"' => {
                self.in_string = true;
                self.push(b)?;
            }
            b'{' | b'[' => {
                self.element_depth += 1;
                self.push(b)?;
            }
            b'}' | b']' if self.element_depth > 0 => {
                self.push(b)?;
                self.element_depth -= 1;
                if self.element_depth == 0 {
                    self.complete(on_element);
                }
            }
            // A scalar element ends at the separator or the end of the array.
            b',' | b']' if self.element_depth == 0 => {
                self.complete(on_element);
                if b == b']' {
                    self.phase = Phase::Done;
                }
            }
            _ => self.push(b)?,
        }
        Ok(())
    }

    /// Appends to the current element within [`MAX_ELEMENT_BYTES`].
    fn push(&mut self, b: u8) -> Result<(), String> {
        if self.element.len() >= MAX_ELEMENT_BYTES {
            return Err(format!("a list element exceeds {MAX_ELEMENT_BYTES} bytes"));
        }
        self.element.push(b);
        Ok(())
    }

    /// Hands out the finished element.
    fn complete(&mut self, on_element: &mut impl FnMut(&[u8])) {
        self.element_active = false;
        let trimmed = self.element.trim_ascii_end();
        if !trimmed.is_empty() {
            on_element(trimmed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_in_chunks(body: &[u8], chunk: usize) -> Result<(Vec<String>, bool), String> {
        let mut splitter = DataArraySplitter::new();
        let mut out = Vec::new();
        for part in body.chunks(chunk.max(1)) {
            splitter.feed(part, |e| out.push(String::from_utf8_lossy(e).into_owned()))?;
        }
        splitter.finish()?;
        Ok((out, splitter.found_array()))
    }

    #[test]
    fn splits_at_every_chunk_boundary() {
        let body = br#" {"total": {"x": [1, "]"]}, "da\"ta": 1, "data" : [ {"a": "x,}]\"", "b": [1, {"c": 2}]}, 42 , "s]" ,{"files":[]} ], "after": true}"#;
        let want = vec![
            r#"{"a": "x,}]\"", "b": [1, {"c": 2}]}"#.to_owned(),
            "42".to_owned(),
            r#""s]""#.to_owned(),
            r#"{"files":[]}"#.to_owned(),
        ];
        for chunk in 1..body.len() + 1 {
            assert_eq!(
                split_in_chunks(body, chunk),
                Ok((want.clone(), true)),
                "chunk size {chunk}"
            );
        }
    }

    #[test]
    fn empty_null_and_bad_bodies() {
        assert_eq!(split_in_chunks(br#"{"data":[]}"#, 3), Ok((vec![], true)));
        assert_eq!(split_in_chunks(br#"{"data":null}"#, 3), Ok((vec![], false)));
        assert_eq!(split_in_chunks(br#"{"other":1}"#, 3), Ok((vec![], false)));
        assert!(split_in_chunks(br#"{"data":{"a":1}}"#, 3).is_err());
        assert!(split_in_chunks(br#"{"data":[{"a":1},"#, 3).is_err());
        assert!(split_in_chunks(b"<html>", 3).is_err());
        assert!(split_in_chunks(b"", 3).is_err());
    }

    #[test]
    fn oversized_elements_fail() {
        let mut body = br#"{"data":[""#.to_vec();
        body.extend(std::iter::repeat_n(b'x', MAX_ELEMENT_BYTES + 1));
        body.extend(br#""]}"#);
        assert!(split_in_chunks(&body, 4096).is_err());
    }
}
