//! LEB128 varints for the chunk header.

use crate::error::{Result, TsdbError};

/// Appends `v` as an unsigned LEB128 varint.
pub(crate) fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Appends `v` zigzag-encoded as a varint.
pub(crate) fn put_ivarint(out: &mut Vec<u8>, v: i64) {
    put_uvarint(out, ((v << 1) ^ (v >> 63)) as u64);
}

/// Reads an unsigned varint from the front of `*input`, advancing it.
pub(crate) fn get_uvarint(input: &mut &[u8]) -> Result<u64> {
    let mut v = 0u64;
    for (i, &b) in input.iter().enumerate().take(10) {
        let part = u64::from(b & 0x7F);
        if i == 9 && b > 1 {
            return Err(TsdbError::Corrupt("varint overflows 64 bits"));
        }
        v |= part << (7 * i);
        if b & 0x80 == 0 {
            *input = &input[i + 1..];
            return Ok(v);
        }
    }
    Err(TsdbError::Corrupt("varint truncated"))
}

/// Reads a zigzag varint from the front of `*input`, advancing it.
pub(crate) fn get_ivarint(input: &mut &[u8]) -> Result<i64> {
    let u = get_uvarint(input)?;
    Ok(((u >> 1) as i64) ^ -((u & 1) as i64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_trip(u in any::<u64>(), i in any::<i64>()) {
            let mut buf = Vec::new();
            put_uvarint(&mut buf, u);
            put_ivarint(&mut buf, i);
            let mut s = buf.as_slice();
            prop_assert_eq!(get_uvarint(&mut s).unwrap(), u);
            prop_assert_eq!(get_ivarint(&mut s).unwrap(), i);
            prop_assert!(s.is_empty());
        }
    }

    #[test]
    fn rejects_bad_input() {
        assert!(get_uvarint(&mut &[0x80u8, 0x80][..]).is_err());
        assert!(get_uvarint(&mut &[0xFFu8; 10][..]).is_err());
        assert!(get_uvarint(&mut &[][..]).is_err());
    }
}
