//! The byte stream of a WebSocket response: text frames that share the registry's buffers, cut
//! into pieces small enough that a connection's write buffer never grows.
//!
//! **Shared frames.** actix-web-actors encodes every message it is given into a buffer of its
//! own, so each client held a private copy of each frame until it was written: 500 copies of the
//! 9.5 MB `initialState` while clients connect, and a whole copy kept by a client that stops
//! reading. A session therefore puts its text frames into an [`Outbox`] instead: the frame
//! header, then a view of the shared text, no copy. The session's `WebsocketContext` still
//! decodes what the client sends and writes the control frames (ping, pong, close).
//!
//! **Small pieces.** actix-http copies each body item into the connection's write buffer, which
//! starts at 8 KiB and keeps whatever capacity it grew to (up to 128 KiB) for the life of the
//! connection: with 16 KiB delta frames every long-lived connection held a 32 KiB buffer, 16 MB
//! at 500 clients. [`Slices`] yields pieces of at most [`SLICE`] bytes, and with the server's
//! write-buffer limit set to [`WRITE_BUFFER`] (the dispatcher stops taking items once its buffer
//! holds that much, then writes it out) every connection keeps its initial 8 KiB. A piece is a
//! view of one item when it can be; only a piece that spans items (a frame header and the start
//! of its text) is copied, at most [`SLICE`] bytes.
//!
//! **Order and back-pressure.** The session runs only while the stream is polled, and the
//! stream polls it only once everything taken before has been handed on. So a client that
//! stops reading stops its session, and what the session queued in one run is bounded by what
//! it had to send then (its hub queue and one full state). Frames queued during a run go out
//! before the control frames of the same run, so a close frame always comes last.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use actix_web::web::{Bytes, BytesMut};
use bytes::{Buf, BufMut};
use futures_util::Stream;

/// Largest piece handed on at once: the 8 KiB a connection's write buffer starts with.
pub const SLICE: usize = 8 * 1024;

/// The server's HTTP/1 write-buffer limit (`HttpServer::h1_write_buffer_size`). The dispatcher
/// takes items while its buffer holds less than this, so it holds at most `WRITE_BUFFER - 1 +
/// SLICE` bytes. With 1 it writes each item out before taking the next: a 16 KiB frame costs
/// two `write` calls instead of one.
pub const WRITE_BUFFER: usize = 1;

/// Text frames a session has queued, shared between the session and its [`Slices`] stream
/// (both live on the connection's worker thread).
#[derive(Clone, Default)]
pub struct Outbox(Rc<RefCell<VecDeque<Bytes>>>);

impl Outbox {
    /// Queues one WebSocket text frame (unmasked, as a server sends it) carrying `text`, which
    /// must be valid UTF-8; a view of a shared buffer stays shared.
    pub fn text(&self, text: Bytes) {
        let mut queue = self.0.borrow_mut();
        queue.push_back(text_header(text.len()));
        queue.push_back(text);
    }

    fn take_into(&self, out: &mut VecDeque<Bytes>) {
        out.extend(self.0.borrow_mut().drain(..));
    }
}

/// The header of a final, unmasked text frame with a payload of `len` bytes (RFC 6455 §5.2).
fn text_header(len: usize) -> Bytes {
    let mut h = BytesMut::with_capacity(10);
    h.put_u8(0x81);
    match len {
        0..=125 => h.put_u8(len as u8),
        126..=0xFFFF => {
            h.put_u8(126);
            h.put_u16(len as u16);
        }
        _ => {
            h.put_u8(127);
            h.put_u64(len as u64);
        }
    }
    h.freeze()
}

/// A session's [`Outbox`] and its `WebsocketContext` output, merged and cut into pieces of at
/// most [`SLICE`] bytes.
pub struct Slices<S> {
    inner: Pin<Box<S>>,
    outbox: Outbox,
    /// Items taken but not yet handed on, in order.
    pending: VecDeque<Bytes>,
    /// The inner stream has ended.
    done: bool,
}

impl<S> Slices<S> {
    /// Merges `outbox` into `inner`'s output.
    pub fn new(inner: S, outbox: Outbox) -> Self {
        Slices {
            inner: Box::pin(inner),
            outbox,
            pending: VecDeque::new(),
            done: false,
        }
    }

    /// The next piece of what is pending, if anything is.
    fn next_piece(&mut self) -> Option<Bytes> {
        while self.pending.front().is_some_and(Bytes::is_empty) {
            self.pending.pop_front();
        }
        let single = self.pending.len() == 1;
        let front = self.pending.front_mut()?;
        if single || front.len() >= SLICE {
            let piece = front.split_to(front.len().min(SLICE));
            if front.is_empty() {
                self.pending.pop_front();
            }
            return Some(piece);
        }
        // A short item with more behind it (a frame header, a small frame): fill one piece.
        let mut piece = BytesMut::with_capacity(SLICE);
        while piece.len() < SLICE {
            let Some(front) = self.pending.front_mut() else {
                break;
            };
            let n = front.len().min(SLICE - piece.len());
            piece.extend_from_slice(&front[..n]);
            front.advance(n);
            if front.is_empty() {
                self.pending.pop_front();
            }
        }
        Some(piece.freeze())
    }
}

impl<S, E> Stream for Slices<S>
where
    S: Stream<Item = Result<Bytes, E>>,
{
    type Item = Result<Bytes, E>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if let Some(piece) = this.next_piece() {
                return Poll::Ready(Some(Ok(piece)));
            }
            if this.done {
                return Poll::Ready(None);
            }
            // Polling the inner stream runs the session, which may queue frames in the outbox.
            let polled = this.inner.as_mut().poll_next(cx);
            this.outbox.take_into(&mut this.pending);
            match polled {
                Poll::Ready(Some(Ok(bytes))) => this.pending.push_back(bytes),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(None) => this.done = true,
                Poll::Pending if this.pending.is_empty() => return Poll::Pending,
                Poll::Pending => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_http::ws::{Codec, Frame, Message};
    use futures_util::stream;
    use futures_util::task::noop_waker_ref;
    use tokio_util::codec::{Decoder, Encoder};

    type Item = Result<Bytes, &'static str>;

    /// Everything `slices` yields until it is pending or ends.
    fn drain<S: Stream<Item = Item>>(slices: &mut Slices<S>) -> Vec<Item> {
        let mut cx = Context::from_waker(noop_waker_ref());
        let mut out = Vec::new();
        while let Poll::Ready(Some(item)) = Pin::new(&mut *slices).poll_next(&mut cx) {
            out.push(item);
        }
        out
    }

    fn collect(items: Vec<Item>) -> Vec<Item> {
        drain(&mut Slices::new(stream::iter(items), Outbox::default()))
    }

    fn joined(out: Vec<Item>) -> Vec<u8> {
        out.into_iter()
            .flat_map(|r| r.unwrap_or_default())
            .collect()
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
        let mut expected = frame;
        expected.extend_from_slice(&small);
        assert_eq!(joined(out), expected);
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
    fn outbox_frames_decode_as_the_codec_writes_them_and_stay_shared() {
        for len in [0, 5, 125, 126, 1000, 0xFFFF, 0x1_0000, 3 * SLICE + 7] {
            let text = Bytes::from("é".repeat(len / 2) + &"x".repeat(len % 2));
            let mut expected = BytesMut::new();
            Codec::new()
                .encode(
                    Message::Text(bytestring::ByteString::try_from(text.clone()).unwrap()),
                    &mut expected,
                )
                .unwrap();
            let outbox = Outbox::default();
            outbox.text(text.clone());
            let mut slices = Slices::new(stream::empty::<Item>(), outbox);
            let out = drain(&mut slices);
            assert!(out.iter().all(|p| p.as_ref().unwrap().len() <= SLICE));
            if text.len() > 2 * SLICE {
                // Past the first piece the text is handed on as views of the same buffer.
                let piece = out[1].as_ref().unwrap();
                let offset = piece.as_ptr() as usize - text.as_ptr() as usize;
                assert!(offset < text.len(), "piece is a view of the text");
            }
            let wire = joined(out);
            assert_eq!(wire, expected.to_vec(), "frame of {len} bytes");
            let mut buf = BytesMut::from(&wire[..]);
            match Codec::new().client_mode().decode(&mut buf) {
                Ok(Some(Frame::Text(t))) => assert_eq!(t, text),
                other => panic!("{len}: {other:?}"),
            }
        }
    }

    #[test]
    fn outbox_frames_go_before_what_the_inner_stream_yields_in_the_same_poll() {
        let outbox = Outbox::default();
        let queued = outbox.clone();
        // The inner stream stands for the session: when polled it queues a text frame and
        // yields a control frame (as a close after the last data).
        let inner = stream::poll_fn(move |_| -> Poll<Option<Item>> {
            queued.text(Bytes::from_static(b"data"));
            Poll::Ready(Some(Ok(Bytes::from_static(b"CLOSE"))))
        });
        let mut slices = Slices::new(inner, outbox);
        let mut cx = Context::from_waker(noop_waker_ref());
        let Poll::Ready(Some(Ok(first))) = Pin::new(&mut slices).poll_next(&mut cx) else {
            panic!("a piece is ready");
        };
        assert_eq!(&first[..], b"\x81\x04dataCLOSE");
    }

    #[test]
    fn the_session_runs_only_once_everything_taken_is_handed_on() {
        let outbox = Outbox::default();
        let queued = outbox.clone();
        let runs = Rc::new(RefCell::new(0));
        let counted = Rc::clone(&runs);
        let inner = stream::poll_fn(move |_| -> Poll<Option<Item>> {
            *counted.borrow_mut() += 1;
            queued.text(Bytes::from(vec![b'x'; 3 * SLICE]));
            Poll::Pending
        });
        let mut slices = Slices::new(inner, outbox);
        let mut cx = Context::from_waker(noop_waker_ref());
        for _ in 0..4 {
            assert!(Pin::new(&mut slices).poll_next(&mut cx).is_ready());
        }
        assert_eq!(*runs.borrow(), 1, "four pieces of one frame, one run");
        assert!(Pin::new(&mut slices).poll_next(&mut cx).is_ready());
        assert_eq!(*runs.borrow(), 2);
    }

    #[test]
    fn the_dispatcher_bound_fits_its_initial_buffer() {
        // actix-http's h1 write buffer starts with 8 KiB.
        const { assert!(WRITE_BUFFER - 1 + SLICE <= 8 * 1024) };
    }
}
