//! Value encoding: a one-byte format version followed by MessagePack with named fields.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, Result};

/// The value format written by this build.
const FORMAT_V1: u8 = 1;

/// Encodes `value` as `[FORMAT_V1] ++ msgpack(value)`.
pub(crate) fn encode<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    let mut out = vec![FORMAT_V1];
    rmp_serde::encode::write_named(&mut out, value)?;
    Ok(out)
}

/// Decodes a value written by [`encode`], refusing formats this build does not know.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    match bytes.split_first() {
        Some((&FORMAT_V1, body)) => Ok(rmp_serde::from_slice(body)?),
        Some((other, _)) => Err(Error::Store(format!(
            "value format version {other} is not supported by this build (expects {FORMAT_V1})"
        ))),
        None => Err(Error::Store("empty value".to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_and_version_check() {
        let bytes = encode(&("a", 7u32)).unwrap();
        assert_eq!(bytes[0], FORMAT_V1);
        let back: (String, u32) = decode(&bytes).unwrap();
        assert_eq!(back, ("a".to_owned(), 7));

        let mut future = bytes.clone();
        future[0] = 9;
        let err = decode::<(String, u32)>(&future).unwrap_err();
        assert!(err.to_string().contains("version 9"), "{err}");
        assert!(decode::<u32>(&[]).is_err());
    }
}
