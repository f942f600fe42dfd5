//! Transport decoding of agent reports: `Content-Encoding` and size limits (platforms §5.1).
//!
//! Each report kind has two limits: the body as received ("wire") and the body after gzip
//! decoding ("decoded"). Gzip is inflated as a stream into a [`CappedBuffer`] whose capacity can
//! never exceed the decoded limit, so a gzip bomb costs at most that limit in memory before it is
//! rejected with `413 report_too_large`.

use std::io::{ErrorKind, Read};

use flate2::read::MultiGzDecoder;

use crate::error::{Error, Result};

/// One KiB.
const KIB: usize = 1024;
/// One MiB.
const MIB: usize = 1024 * KIB;
/// Size of the chunks read from the gzip stream.
const CHUNK: usize = 16 * KIB;

/// Which report a body carries; decides the size limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportKind {
    /// Host report, `POST /api/agents/agent/report` (alias `/api/agents/host/report`).
    Host,
    /// Docker/Podman report, `POST /api/agents/docker/report`.
    Docker,
    /// Kubernetes report, `POST /api/agents/kubernetes/report`.
    Kubernetes,
}

impl ReportKind {
    /// Largest body accepted as received, in bytes: 256 KiB for hosts, 2 MiB otherwise.
    pub const fn wire_limit(self) -> usize {
        match self {
            ReportKind::Host => 256 * KIB,
            ReportKind::Docker | ReportKind::Kubernetes => 2 * MIB,
        }
    }

    /// Largest body accepted after gzip decoding, in bytes: 1.5 MiB for hosts, 10 MiB otherwise.
    pub const fn decoded_limit(self) -> usize {
        match self {
            ReportKind::Host => 3 * MIB / 2,
            ReportKind::Docker | ReportKind::Kubernetes => 10 * MIB,
        }
    }
}

/// A body encoding the agent routes accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    /// No encoding.
    Identity,
    /// One gzip layer.
    Gzip,
}

/// Reads a `Content-Encoding` header value: absent, empty or `identity` is identity; `gzip` or
/// `x-gzip` (any case) is gzip. A list (`gzip, identity`) is accepted when it holds at most one
/// gzip layer. Anything else is `415 unsupported_encoding`.
fn parse_encoding(header: Option<&str>) -> Result<Encoding> {
    let mut encoding = Encoding::Identity;
    for token in header.unwrap_or("").split(',').map(str::trim) {
        if token.is_empty() || token.eq_ignore_ascii_case("identity") {
            continue;
        }
        let is_gzip = token.eq_ignore_ascii_case("gzip") || token.eq_ignore_ascii_case("x-gzip");
        if !is_gzip || encoding == Encoding::Gzip {
            return Err(Error::UnsupportedEncoding(header.unwrap_or("").to_owned()));
        }
        encoding = Encoding::Gzip;
    }
    Ok(encoding)
}

/// Checks the encoding and sizes of a report body and returns the decoded JSON bytes.
///
/// Errors: an encoding other than identity or gzip → [`Error::UnsupportedEncoding`]; a body over
/// the wire limit → [`Error::ReportTooLarge`] `wire`; gzip inflating past the decoded limit →
/// [`Error::ReportTooLarge`] `decoded` (its `actual` is the number of bytes seen before stopping,
/// at most one more than the limit, i.e. "more than the limit"); corrupt gzip →
/// [`Error::InvalidReport`] on `body`.
pub fn decode_body(
    kind: ReportKind,
    content_encoding: Option<&str>,
    body: &[u8],
) -> Result<Vec<u8>> {
    let encoding = parse_encoding(content_encoding)?;
    if body.len() > kind.wire_limit() {
        return Err(Error::ReportTooLarge {
            dimension: "wire",
            limit: kind.wire_limit(),
            actual: body.len(),
        });
    }
    match encoding {
        Encoding::Identity => Ok(body.to_vec()),
        Encoding::Gzip => inflate(body, kind.decoded_limit()),
    }
}

/// Inflates a gzip stream (one or more members, as RFC 1952 allows) into at most `cap` bytes.
fn inflate(body: &[u8], cap: usize) -> Result<Vec<u8>> {
    // `take` stops the decoder one byte past the cap: enough to know the cap was exceeded,
    // without inflating the rest of a bomb.
    let limit = u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1);
    let mut reader = MultiGzDecoder::new(body).take(limit);
    let mut out = CappedBuffer::new(cap, body.len().saturating_mul(4));
    let mut chunk = [0u8; CHUNK];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => {
                return Err(Error::InvalidReport {
                    field: "body".into(),
                    message: format!("corrupt gzip data: {e}"),
                })
            }
        };
        out.push(&chunk[..n])
            .map_err(|seen| Error::ReportTooLarge {
                dimension: "decoded",
                limit: cap,
                actual: seen,
            })?;
    }
    Ok(out.into_inner())
}

/// A byte buffer that never allocates more than `cap` bytes: [`CappedBuffer::push`] refuses data
/// that would not fit instead of growing past the cap.
#[derive(Debug)]
struct CappedBuffer {
    /// The bytes so far; its capacity never exceeds `cap`.
    buf: Vec<u8>,
    /// Most bytes the buffer may hold.
    cap: usize,
}

impl CappedBuffer {
    /// An empty buffer for at most `cap` bytes, pre-allocating `expected` (clamped to the cap).
    fn new(cap: usize, expected: usize) -> Self {
        CappedBuffer {
            buf: Vec::with_capacity(expected.min(cap)),
            cap,
        }
    }

    /// Appends `data`, or returns the length the buffer would have had (more than the cap)
    /// without storing anything.
    fn push(&mut self, data: &[u8]) -> std::result::Result<(), usize> {
        let needed = self.buf.len().saturating_add(data.len());
        if needed > self.cap {
            return Err(needed);
        }
        if needed > self.buf.capacity() {
            // Grow geometrically like `Vec`, but never beyond the cap.
            let target = self
                .buf
                .capacity()
                .saturating_mul(2)
                .max(needed)
                .min(self.cap);
            self.buf.reserve_exact(target - self.buf.len());
        }
        self.buf.extend_from_slice(data);
        Ok(())
    }

    /// Bytes allocated so far (never more than the cap).
    #[cfg(test)]
    fn capacity(&self) -> usize {
        self.buf.capacity()
    }

    /// The buffered bytes.
    fn into_inner(self) -> Vec<u8> {
        self.buf
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::write::GzEncoder;
    use flate2::Compression;

    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::default());
        enc.write_all(data).expect("compress");
        enc.finish().expect("finish")
    }

    /// A gzip stream inflating to `size` zero bytes, built without holding them in memory.
    fn zero_bomb(size: usize) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
        let block = vec![0u8; MIB];
        for _ in 0..size / MIB {
            enc.write_all(&block).expect("compress");
        }
        enc.finish().expect("finish")
    }

    #[test]
    fn limits_match_the_reference() {
        assert_eq!(ReportKind::Host.wire_limit(), 262_144);
        assert_eq!(ReportKind::Host.decoded_limit(), 1_572_864);
        assert_eq!(ReportKind::Docker.wire_limit(), 2_097_152);
        assert_eq!(ReportKind::Docker.decoded_limit(), 10_485_760);
        assert_eq!(ReportKind::Kubernetes.wire_limit(), 2_097_152);
        assert_eq!(ReportKind::Kubernetes.decoded_limit(), 10_485_760);
    }

    #[test]
    fn identity_and_gzip_in_any_spelling() {
        let json = br#"{"host":{"hostname":"a"}}"#;
        for header in [None, Some(""), Some("identity"), Some("IDENTITY")] {
            assert_eq!(
                decode_body(ReportKind::Host, header, json).expect("identity"),
                json
            );
        }
        let packed = gzip(json);
        for header in [
            "gzip",
            "GZip",
            "x-gzip",
            "X-GZIP",
            " gzip ",
            "gzip, identity",
        ] {
            assert_eq!(
                decode_body(ReportKind::Host, Some(header), &packed).expect("gzip"),
                json,
                "{header}"
            );
        }
    }

    #[test]
    fn concatenated_gzip_members_are_one_body() {
        let mut packed = gzip(br#"{"host":"#);
        packed.extend(gzip(br#"{"hostname":"a"}}"#));
        let out = decode_body(ReportKind::Host, Some("gzip"), &packed).expect("multi-member");
        assert_eq!(out, br#"{"host":{"hostname":"a"}}"#);
    }

    #[test]
    fn other_encodings_are_unsupported() {
        for header in [
            "br",
            "deflate",
            "zstd",
            "gzip, gzip",
            "gzip, br",
            "compress",
        ] {
            let err = decode_body(ReportKind::Docker, Some(header), b"{}").expect_err(header);
            assert!(
                matches!(err, Error::UnsupportedEncoding(_)),
                "{header}: {err:?}"
            );
        }
    }

    #[test]
    fn wire_limit_is_enforced_before_decoding() {
        let body = vec![b' '; ReportKind::Host.wire_limit() + 1];
        let err = decode_body(ReportKind::Host, None, &body).expect_err("too large");
        assert!(matches!(
            err,
            Error::ReportTooLarge {
                dimension: "wire",
                limit: 262_144,
                actual: 262_145
            }
        ));
        let at_limit = vec![b' '; ReportKind::Host.wire_limit()];
        assert!(decode_body(ReportKind::Host, None, &at_limit).is_ok());
    }

    #[test]
    fn corrupt_gzip_is_an_invalid_report() {
        let mut packed = gzip(b"{\"a\":1}");
        let mid = packed.len() / 2;
        packed[mid] ^= 0xff;
        for body in [packed.as_slice(), b"not gzip at all", b""] {
            let err = decode_body(ReportKind::Host, Some("gzip"), body).expect_err("corrupt");
            assert!(
                matches!(&err, Error::InvalidReport { field, .. } if field == "body"),
                "{err:?}"
            );
        }
    }

    #[test]
    fn gzip_bomb_is_rejected_within_the_cap() {
        let bomb = zero_bomb(64 * MIB);
        assert!(
            bomb.len() < 2 * MIB,
            "bomb fits the wire limit: {}",
            bomb.len()
        );
        for kind in [ReportKind::Host, ReportKind::Docker, ReportKind::Kubernetes] {
            if bomb.len() > kind.wire_limit() {
                continue;
            }
            let err = decode_body(kind, Some("gzip"), &bomb).expect_err("bomb");
            match err {
                Error::ReportTooLarge {
                    dimension: "decoded",
                    limit,
                    actual,
                } => {
                    assert_eq!(limit, kind.decoded_limit());
                    assert!(actual > limit && actual <= limit + 1, "{actual}");
                }
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn capped_buffer_never_allocates_past_the_cap() {
        // Drive the same loop as `inflate`, observing the buffer it fills.
        let cap = ReportKind::Docker.decoded_limit();
        let bomb = zero_bomb(64 * MIB);
        let mut reader = MultiGzDecoder::new(bomb.as_slice()).take(cap as u64 + 1);
        let mut out = CappedBuffer::new(cap, bomb.len() * 4);
        let mut chunk = [0u8; CHUNK];
        let mut max_capacity = 0;
        let mut overflow = None;
        loop {
            let n = reader.read(&mut chunk).expect("inflate");
            if n == 0 {
                break;
            }
            if let Err(seen) = out.push(&chunk[..n]) {
                overflow = Some(seen);
                break;
            }
            max_capacity = max_capacity.max(out.capacity());
        }
        assert!(max_capacity <= cap, "capacity {max_capacity} > cap {cap}");
        assert_eq!(overflow, Some(cap + 1));
    }

    #[test]
    fn capped_buffer_accepts_exactly_the_cap() {
        let mut out = CappedBuffer::new(10, 0);
        out.push(&[1; 4]).expect("fits");
        out.push(&[2; 6]).expect("fits exactly");
        assert_eq!(out.push(&[3]), Err(11));
        assert!(out.capacity() <= 10);
        assert_eq!(out.into_inner().len(), 10);
    }
}
