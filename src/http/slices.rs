//! Hands a response byte stream to actix-http in pieces small enough that a connection's write
//! buffer never grows.
//!
//! actix-http copies each body item into the connection's write buffer, which starts at 8 KiB
//! and keeps whatever capacity it grew to (up to 128 KiB) for the life of the connection. A
//! WebSocket session yields each delta frame as one item, so with frames of 16 KiB every
//! long-lived connection held a 32 KiB buffer (capacity doubles past the first 16 KiB frame):
//! 16 MB at 500 clients. Cutting the stream into [`SLICE`]-byte pieces, with the server's
//! write-buffer limit set to [`WRITE_BUFFER`] (the dispatcher stops taking items once its buffer
//! holds that much, then writes it out), keeps every connection at its initial 8 KiB. Bodies
//! sent whole (every other response) are one item, so for them nothing changes.
//!
//! The pieces are views into the item (`Bytes::split_to`, no copy) and the byte stream on the
//! wire is unchanged: this only decides how many bytes go into one `write`.

use std::pin::Pin;
use std::task::{ready, Context, Poll};

use actix_web::web::Bytes;
use futures_util::Stream;

/// Largest piece handed on at once: the 8 KiB a connection's write buffer starts with.
pub const SLICE: usize = 8 * 1024;

/// The server's HTTP/1 write-buffer limit (`HttpServer::h1_write_buffer_size`). The dispatcher
/// takes items while its buffer holds less than this, so it holds at most `WRITE_BUFFER - 1 +
/// SLICE` bytes. With 1 it writes each item out before taking the next: a 16 KiB frame costs
/// two `write` calls instead of one.
pub const WRITE_BUFFER: usize = 1;

/// A byte stream re-cut into pieces of at most [`SLICE`] bytes.
pub struct Slices<S> {
    inner: Pin<Box<S>>,
    /// What is left of the current item.
    rest: Bytes,
}

impl<S> Slices<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        Slices {
            inner: Box::pin(inner),
            rest: Bytes::new(),
        }
    }
}

impl<S, E> Stream for Slices<S>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    type Item = Result<Bytes, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        // Empty items are skipped: they carry nothing and some encoders read them as the end.
        while this.rest.is_empty() {
            match ready!(this.inner.as_mut().poll_next(cx)) {
                Some(Ok(bytes)) => this.rest = bytes,
                other => return Poll::Ready(other),
            }
        }
        let n = this.rest.len().min(SLICE);
        Poll::Ready(Some(Ok(this.rest.split_to(n))))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let (low, _) = self.inner.size_hint();
        (low.saturating_add(usize::from(!self.rest.is_empty())), None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::stream;
    use futures_util::task::noop_waker_ref;

    /// Everything the adapter yields for `items` (an iterator stream is always ready).
    fn collect(items: Vec<Result<Bytes, &'static str>>) -> Vec<Result<Bytes, &'static str>> {
        let mut slices = Slices::new(stream::iter(items));
        let mut cx = Context::from_waker(noop_waker_ref());
        let mut out = Vec::new();
        while let Poll::Ready(Some(item)) = Pin::new(&mut slices).poll_next(&mut cx) {
            out.push(item);
        }
        out
    }

    #[test]
    fn large_items_are_cut_and_the_bytes_are_unchanged() {
        let frame: Vec<u8> = (0..(2 * SLICE + 100)).map(|i| (i % 251) as u8).collect();
        let small = Bytes::from_static(b"tail");
        let out = collect(vec![Ok(Bytes::from(frame.clone())), Ok(small.clone())]);
        let sizes: Vec<usize> = out
            .iter()
            .map(|r| r.as_ref().map_or(0, Bytes::len))
            .collect();
        assert_eq!(sizes, vec![SLICE, SLICE, 100, 4]);
        let joined: Vec<u8> = out
            .into_iter()
            .flat_map(|r| r.unwrap_or_default())
            .collect();
        let mut expected = frame;
        expected.extend_from_slice(&small);
        assert_eq!(joined, expected);
    }

    #[test]
    fn empty_items_are_skipped_and_errors_pass_through_in_order() {
        let out = collect(vec![
            Ok(Bytes::new()),
            Ok(Bytes::from_static(b"a")),
            Err("broken"),
            Ok(Bytes::from_static(b"b")),
        ]);
        assert_eq!(
            out,
            vec![
                Ok(Bytes::from_static(b"a")),
                Err("broken"),
                Ok(Bytes::from_static(b"b"))
            ]
        );
    }

    #[test]
    fn the_dispatcher_bound_fits_its_initial_buffer() {
        // actix-http's h1 write buffer starts with 8 KiB.
        const { assert!(WRITE_BUFFER - 1 + SLICE <= 8 * 1024) };
    }
}
