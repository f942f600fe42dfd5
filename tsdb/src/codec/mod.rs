//! Gorilla-style chunk codec: delta-of-delta timestamps and XOR/decimal value columns.
//!
//! The codec is independent of storage: it turns `(timestamp, [f64; columns])` rows into a compact,
//! self-describing byte chunk and back, bit-exactly.

mod bits;
mod chunk;
mod timestamps;
mod values;
pub(crate) mod varint;

pub use chunk::{
    assemble_chunk, decode_chunk, ChunkDecoder, ChunkEncoder, DecodedChunk, FORMAT_VERSION,
    MAX_COLUMNS, OLDEST_READ_VERSION,
};

/// Chunks captured from the codec format 2 encoder, for tests of what reads persisted bits.
#[cfg(test)]
pub(crate) use chunk::format2 as format2_fixtures;
