//! A minimal HTTP/1.1 client over a unix socket, enough for the Docker Engine API.
//!
//! One connection per request (`Connection: close`), an overall deadline per request, and a
//! cap on the response size so a misbehaving daemon cannot make the agent balloon. Both
//! `Content-Length` and `Transfer-Encoding: chunked` bodies are understood.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Longest status line plus headers accepted.
const MAX_HEAD: usize = 64 * 1024;

/// Why a request failed.
#[derive(Debug)]
pub enum HttpError {
    /// Connecting, writing or reading failed (including timeouts).
    Io(io::Error),
    /// The peer did not speak HTTP/1.x as expected.
    Protocol(String),
    /// The body exceeded the configured cap.
    TooLarge(usize),
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e)
                if e.kind() == io::ErrorKind::WouldBlock || e.kind() == io::ErrorKind::TimedOut =>
            {
                write!(f, "timed out")
            }
            Self::Io(e) => write!(f, "{e}"),
            Self::Protocol(m) => write!(f, "bad HTTP response: {m}"),
            Self::TooLarge(cap) => write!(f, "response larger than {cap} bytes"),
        }
    }
}

impl std::error::Error for HttpError {}

impl From<io::Error> for HttpError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

/// Status and body of a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// HTTP status code.
    pub status: u16,
    /// Decoded body (chunked framing removed).
    pub body: Vec<u8>,
}

/// HTTP client bound to one unix socket path.
#[derive(Debug, Clone)]
pub struct UnixHttpClient {
    socket: PathBuf,
    timeout: Duration,
    max_body: usize,
}

impl UnixHttpClient {
    /// A client for `socket` with an overall per-request `timeout` and body cap `max_body`.
    pub fn new(socket: impl Into<PathBuf>, timeout: Duration, max_body: usize) -> Self {
        Self {
            socket: socket.into(),
            timeout,
            max_body,
        }
    }

    /// Socket path this client talks to.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Sends `GET target` (path and query) and reads the whole response.
    pub fn get(&self, target: &str) -> Result<Response, HttpError> {
        let deadline = Instant::now() + self.timeout;
        let stream = UnixStream::connect(&self.socket)?;
        stream.set_write_timeout(Some(self.timeout))?;
        let request = format!(
            "GET {target} HTTP/1.1\r\nHost: docker\r\nUser-Agent: pulse-agent/{}\r\nAccept: application/json\r\nConnection: close\r\n\r\n",
            crate::VERSION
        );
        (&stream).write_all(request.as_bytes())?;
        let mut reader = BufReader::new(Deadline { stream, deadline });
        read_response(&mut reader, self.max_body)
    }
}

/// A reader that fails with `TimedOut` once the deadline has passed.
struct Deadline {
    stream: UnixStream,
    deadline: Instant,
}

impl Read for Deadline {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "deadline passed"));
        }
        self.stream.set_read_timeout(Some(left))?;
        self.stream.read(buf)
    }
}

/// Reads one CRLF-terminated line, counting bytes against `budget`.
fn read_line(r: &mut impl BufRead, budget: &mut usize) -> Result<String, HttpError> {
    let mut line = Vec::new();
    let n = r
        .by_ref()
        .take(*budget as u64 + 1)
        .read_until(b'\n', &mut line)?;
    if n == 0 {
        return Err(HttpError::Protocol("connection closed early".into()));
    }
    if n > *budget || !line.ends_with(b"\n") {
        return Err(HttpError::Protocol(
            "header section too long or truncated".into(),
        ));
    }
    *budget -= n;
    while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        line.pop();
    }
    String::from_utf8(line).map_err(|_| HttpError::Protocol("non-UTF-8 header".into()))
}

/// Parses a response (status line, headers, body) from `r`, rejecting bodies over `max_body`.
pub fn read_response(r: &mut impl BufRead, max_body: usize) -> Result<Response, HttpError> {
    let mut budget = MAX_HEAD;
    let status_line = read_line(r, &mut budget)?;
    let mut parts = status_line.splitn(3, ' ');
    let (Some(version), Some(code)) = (parts.next(), parts.next()) else {
        return Err(HttpError::Protocol(format!("status line {status_line:?}")));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(HttpError::Protocol(format!("status line {status_line:?}")));
    }
    let status: u16 = code
        .parse()
        .map_err(|_| HttpError::Protocol(format!("status code {code:?}")))?;
    let mut length: Option<usize> = None;
    let mut chunked = false;
    loop {
        let line = read_line(r, &mut budget)?;
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(HttpError::Protocol(format!("header {line:?}")));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .parse()
                    .map_err(|_| HttpError::Protocol(format!("Content-Length {value:?}")))?,
            );
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.to_ascii_lowercase().contains("chunked");
        }
    }
    let body = if status == 204 || status == 304 || (100..200).contains(&status) {
        Vec::new()
    } else if chunked {
        read_chunked(r, max_body)?
    } else if let Some(len) = length {
        if len > max_body {
            return Err(HttpError::TooLarge(max_body));
        }
        let mut body = vec![0; len];
        r.read_exact(&mut body)?;
        body
    } else {
        let mut body = Vec::new();
        r.take(max_body as u64 + 1).read_to_end(&mut body)?;
        if body.len() > max_body {
            return Err(HttpError::TooLarge(max_body));
        }
        body
    };
    Ok(Response { status, body })
}

fn read_chunked(r: &mut impl BufRead, max_body: usize) -> Result<Vec<u8>, HttpError> {
    let mut body = Vec::new();
    loop {
        let mut budget = 1024;
        let line = read_line(r, &mut budget)?;
        let size_hex = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_hex, 16)
            .map_err(|_| HttpError::Protocol(format!("chunk size {size_hex:?}")))?;
        if size == 0 {
            // Trailer section: header lines until an empty one.
            let mut budget = MAX_HEAD;
            while !read_line(r, &mut budget)?.is_empty() {}
            return Ok(body);
        }
        if body.len().saturating_add(size) > max_body {
            return Err(HttpError::TooLarge(max_body));
        }
        let start = body.len();
        body.resize(start + size, 0);
        r.read_exact(&mut body[start..])?;
        let mut crlf = [0u8; 2];
        r.read_exact(&mut crlf)?;
        if &crlf != b"\r\n" {
            return Err(HttpError::Protocol("chunk not followed by CRLF".into()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(raw: &[u8], cap: usize) -> Result<Response, HttpError> {
        read_response(&mut &raw[..], cap)
    }

    #[test]
    fn reads_content_length_body() {
        let r = parse(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
            100,
        )
        .expect("ok");
        assert_eq!(
            r,
            Response {
                status: 200,
                body: b"{}".to_vec()
            }
        );
    }

    #[test]
    fn reads_chunked_body_with_extensions_and_trailers() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;x=y\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: 1\r\n\r\n";
        let r = parse(raw, 100).expect("ok");
        assert_eq!(r.body, b"Wikipedia in\r\n\r\nchunks.");
    }

    #[test]
    fn reads_until_eof_without_length() {
        let r = parse(b"HTTP/1.0 404 Not Found\r\n\r\n{\"message\":\"x\"}", 100).expect("ok");
        assert_eq!(r.status, 404);
        assert_eq!(r.body, b"{\"message\":\"x\"}");
    }

    #[test]
    fn enforces_the_size_cap() {
        let big = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
        assert!(matches!(parse(big, 10), Err(HttpError::TooLarge(10))));
        let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\n12345678\r\n0\r\n\r\n";
        assert!(matches!(parse(chunked, 10), Err(HttpError::TooLarge(10))));
        let eof = b"HTTP/1.1 200 OK\r\n\r\n0123456789ABC";
        assert!(matches!(parse(eof, 10), Err(HttpError::TooLarge(10))));
    }

    #[test]
    fn rejects_malformed_responses() {
        assert!(parse(b"", 10).is_err());
        assert!(parse(b"SSH-2.0-OpenSSH\r\n\r\n", 10).is_err());
        assert!(parse(b"HTTP/1.1 abc OK\r\n\r\n", 10).is_err());
        assert!(parse(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            10
        )
        .is_err());
        assert!(parse(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", 10).is_err());
        let long_header = format!("HTTP/1.1 200 OK\r\nX: {}\r\n\r\n", "a".repeat(MAX_HEAD));
        assert!(parse(long_header.as_bytes(), 10).is_err());
    }

    #[test]
    fn times_out_on_a_silent_peer() {
        let dir = std::env::temp_dir().join(format!("pulse-agent-http-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("silent.sock");
        let _ = std::fs::remove_file(&path);
        let listener = std::os::unix::net::UnixListener::bind(&path).expect("bind");
        let client = UnixHttpClient::new(&path, Duration::from_millis(200), 1024);
        let started = Instant::now();
        let err = client.get("/_ping").expect_err("must time out");
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(err.to_string(), "timed out");
        drop(listener);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
