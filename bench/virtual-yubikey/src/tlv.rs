//! BER-TLV with one-byte tags, as YKOATH and the Management applet use them.
//!
//! A cursor rather than a parse-everything function: OATH PUT carries one "TLV" that is not one
//! (the touch property `78 02` has no length byte), so its parser steps through by hand.

/// Encodes one TLV (short or long length form).
pub fn encode(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 4);
    out.push(tag);
    let len = value.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len <= 0xFF {
        out.extend_from_slice(&[0x81, len as u8]);
    } else {
        out.push(0x82);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    }
    out.extend_from_slice(value);
    out
}

/// Walks a byte string TLV by TLV.
pub struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// Starts at the beginning of `data`.
    pub fn new(data: &'a [u8]) -> Reader<'a> {
        Reader { rest: data }
    }

    /// True when everything was consumed.
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    /// The next tag without consuming it.
    pub fn peek_tag(&self) -> Option<u8> {
        self.rest.first().copied()
    }

    /// Consumes one raw byte (for the length-less OATH property pair).
    pub fn byte(&mut self) -> Option<u8> {
        let (b, rest) = self.rest.split_first()?;
        self.rest = rest;
        Some(*b)
    }

    /// Consumes the next TLV; `None` if it is truncated or its length form is unsupported.
    pub fn next_tlv(&mut self) -> Option<(u8, &'a [u8])> {
        let (&tag, rest) = self.rest.split_first()?;
        let (&first, rest) = rest.split_first()?;
        let (len, rest) = match first {
            n if n < 0x80 => (usize::from(n), rest),
            0x81 => {
                let (&n, rest) = rest.split_first()?;
                (usize::from(n), rest)
            }
            0x82 => {
                if rest.len() < 2 {
                    return None;
                }
                (
                    usize::from(u16::from_be_bytes([rest[0], rest[1]])),
                    &rest[2..],
                )
            }
            _ => return None,
        };
        if rest.len() < len {
            return None;
        }
        let (value, rest) = rest.split_at(len);
        self.rest = rest;
        Some((tag, value))
    }

    /// Consumes the next TLV only if it has `tag`.
    pub fn expect(&mut self, tag: u8) -> Option<&'a [u8]> {
        if self.peek_tag()? != tag {
            return None;
        }
        let (_, value) = self.next_tlv()?;
        Some(value)
    }
}

/// Finds the first TLV with `tag` in a well-formed list; `None` when absent or the list is malformed.
pub fn find(data: &[u8], tag: u8) -> Option<&[u8]> {
    let mut r = Reader::new(data);
    while !r.is_empty() {
        let (t, v) = r.next_tlv()?;
        if t == tag {
            return Some(v);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_short_and_long_lengths() {
        for len in [0usize, 1, 127, 128, 255, 256, 300] {
            let value = vec![7u8; len];
            let enc = encode(0x71, &value);
            let mut r = Reader::new(&enc);
            assert_eq!(r.next_tlv(), Some((0x71, &value[..])));
            assert!(r.is_empty());
        }
    }

    #[test]
    fn truncated_tlv_is_none() {
        assert_eq!(Reader::new(&[0x71, 3, 1, 2]).next_tlv(), None);
        assert_eq!(Reader::new(&[0x71]).next_tlv(), None);
        assert_eq!(Reader::new(&[0x71, 0x83, 0, 0, 1]).next_tlv(), None);
    }

    #[test]
    fn finds_tags() {
        let data = [encode(0x74, &[1, 2]), encode(0x75, &[3])].concat();
        assert_eq!(find(&data, 0x75), Some(&[3u8][..]));
        assert_eq!(find(&data, 0x71), None);
    }
}
