//! BER-TLV as the OATH applet uses it: one-byte tags, short or `81`/`82` long-form lengths.
//!
//! Parsing never panics and never trusts a length byte: a value that runs past the end of the
//! buffer is an error, not a short read. The parsers here are fuzzed (see `fuzz/`).

use super::Error;

/// One tag and its value, borrowed from a response buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    /// The tag byte.
    pub tag: u8,
    /// The value bytes.
    pub value: &'a [u8],
}

/// Appends `tag len value` to `out`, choosing the shortest length form.
pub fn push(out: &mut Vec<u8>, tag: u8, value: &[u8]) {
    out.push(tag);
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len <= 0xFF {
        out.extend_from_slice(&[0x81, len as u8]);
    } else {
        // Command data is capped at 255 bytes by short APDUs, so this only serves tests and
        // the virtual card; it is still encoded correctly.
        let len = u16::try_from(len).unwrap_or(u16::MAX);
        out.push(0x82);
        out.extend_from_slice(&len.to_be_bytes());
    }
    out.extend_from_slice(value);
}

/// Iterates over the TLVs of a buffer; yields an error (once) when the buffer is malformed.
pub struct Iter<'a> {
    rest: &'a [u8],
    failed: bool,
}

/// Parses `buf` as a sequence of TLVs.
pub fn iter(buf: &[u8]) -> Iter<'_> {
    Iter {
        rest: buf,
        failed: false,
    }
}

impl<'a> Iterator for Iter<'a> {
    type Item = Result<Tlv<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() || self.failed {
            return None;
        }
        match split_one(self.rest) {
            Ok((tlv, rest)) => {
                self.rest = rest;
                Some(Ok(tlv))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// Parses every TLV of `buf`, failing on the first malformed one.
pub fn parse_all(buf: &[u8]) -> Result<Vec<Tlv<'_>>, Error> {
    iter(buf).collect()
}

/// The value of the first TLV with `tag`, if any.
pub fn find<'a>(tlvs: &[Tlv<'a>], tag: u8) -> Option<&'a [u8]> {
    tlvs.iter().find(|t| t.tag == tag).map(|t| t.value)
}

fn split_one(buf: &[u8]) -> Result<(Tlv<'_>, &[u8]), Error> {
    let malformed = |what: &'static str| Error::Malformed(what);
    let (&tag, rest) = buf.split_first().ok_or(malformed("empty TLV"))?;
    let (&first, rest) = rest
        .split_first()
        .ok_or(malformed("TLV without a length"))?;
    let (len, rest) = match first {
        0..=0x7F => (usize::from(first), rest),
        0x81 => {
            let (&l, rest) = rest
                .split_first()
                .ok_or(malformed("TLV length cut short"))?;
            (usize::from(l), rest)
        }
        0x82 => {
            if rest.len() < 2 {
                return Err(malformed("TLV length cut short"));
            }
            (
                usize::from(u16::from_be_bytes([rest[0], rest[1]])),
                &rest[2..],
            )
        }
        _ => return Err(malformed("unsupported TLV length form")),
    };
    if rest.len() < len {
        return Err(malformed("TLV value runs past the end of the response"));
    }
    let (value, rest) = rest.split_at(len);
    Ok((Tlv { tag, value }, rest))
}

#[cfg(test)]
mod tests;
