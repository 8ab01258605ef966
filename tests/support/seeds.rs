//! Proof that no seed leaks: every output of a run is searched for every seed the IAM endpoint
//! issued, in every encoding a leak could take, and for the authentication codes those seeds gave
//! during the run.

use std::collections::HashMap;
use std::ops::RangeInclusive;

/// Places to search: each named (a file, an output of a run) with its bytes.
pub type Haystacks = Vec<(String, Vec<u8>)>;

/// Where a needle is looked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// The haystack as it is.
    Verbatim,
    /// The haystack without whitespace and without the escapes `\n`, `\r` and `\t`: a list
    /// printed on one line, pretty-printed at any indentation, or pretty-printed into a JSON log
    /// line all read the same there.
    Spaceless,
}

/// One thing a scan looks for: bytes, the encoding of the seed they are (named when found,
/// never the bytes themselves), and where to look for them.
#[derive(Clone, Debug)]
pub struct Needle {
    pub bytes: Vec<u8>,
    pub encoding: &'static str,
    pub view: View,
}

/// Characters of a text needle: 16 Base32 characters are 80 bits of the seed.
const TEXT_WINDOW: usize = 16;
/// Raw key bytes in one needle.
const RAW_WINDOW: usize = 8;
/// Elements of a `Debug` byte list in one needle.
const LIST_WINDOW: usize = 8;

/// The needles one Base32 seed gives. Windows (16 characters of text, 8 raw bytes, 8 list
/// elements) catch a seed that was cut or wrapped.
///
/// - the Base32 text, upper and lower case (padding ignored), and in groups of four separated by
///   spaces (`JBSW Y3DP EHPK 3PXP`, as authenticator apps and consoles show a secret);
/// - base64 of the Base32 text, upper and lower case, padded or not: how the seed travels
///   (`Base32StringSeed` is a blob, so the wire carries base64 of the text), at each of the three
///   offsets at which it can start inside a longer base64 text (a whole body logged encoded);
/// - the key bytes raw, in hex (both cases), and in base64 (padded or not, at the three offsets);
/// - `Debug` lists of the key bytes and of the Base32 text's bytes: `{:?}` (`[72, 101, …]`),
///   `{:#04x?}` (`0x48`, one a line) and `{:#04X?}`, searched in the [`View::Spaceless`] view
///   so that one-line, pretty-printed and JSON-escaped prints all match.
pub fn needles(seed: &str) -> Vec<Needle> {
    let b32 = seed.trim_end_matches('=').to_ascii_uppercase();
    let raw = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, &b32)
        .expect("an issued seed is Base32");
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let grouped = b32
        .as_bytes()
        .chunks(4)
        .map(|g| String::from_utf8_lossy(g).into_owned())
        .collect::<Vec<_>>()
        .join(" ");

    let mut out = Vec::new();
    let mut text = |encoding: &'static str, texts: Vec<String>| {
        for t in texts {
            for bytes in windows(t.as_bytes(), TEXT_WINDOW) {
                out.push(Needle {
                    bytes,
                    encoding,
                    view: View::Verbatim,
                });
            }
        }
    };
    text("Base32", vec![b32.clone(), b32.to_ascii_lowercase()]);
    text(
        "Base32 in groups of four",
        vec![grouped.clone(), grouped.to_ascii_lowercase()],
    );
    text(
        "hex of the key",
        vec![hex.clone(), hex.to_ascii_uppercase()],
    );
    text("base64 of the key", base64_forms(&raw));
    let mut b64_text = base64_forms(b32.as_bytes());
    b64_text.extend(base64_forms(b32.to_ascii_lowercase().as_bytes()));
    text("base64 of the Base32 text", b64_text);

    for bytes in windows(&raw, RAW_WINDOW) {
        out.push(Needle {
            bytes,
            encoding: "key bytes",
            view: View::Verbatim,
        });
    }

    let styles: [(&str, &str, Element); 3] = [
        (
            "{:?} of the key bytes",
            "{:?} of the Base32 text's bytes",
            |b| b.to_string(),
        ),
        (
            "{:#04x?} of the key bytes",
            "{:#04x?} of the Base32 text's bytes",
            |b| format!("{b:#04x}"),
        ),
        (
            "{:#04X?} of the key bytes",
            "{:#04X?} of the Base32 text's bytes",
            |b| format!("{b:#04X}"),
        ),
    ];
    for (of_key, of_text, element) in styles {
        for (encoding, bytes) in [(of_key, &raw[..]), (of_text, b32.as_bytes())] {
            let items: Vec<String> = bytes.iter().map(element).collect();
            for w in items.windows(LIST_WINDOW.min(items.len()).max(1)) {
                out.push(Needle {
                    bytes: w.join(",").into_bytes(),
                    encoding,
                    view: View::Spaceless,
                });
            }
        }
    }
    out
}

/// How a `Debug` list prints one byte.
type Element = fn(&u8) -> String;

fn windows(bytes: &[u8], n: usize) -> Vec<Vec<u8>> {
    if bytes.len() <= n {
        return vec![bytes.to_vec()];
    }
    bytes.windows(n).map(<[u8]>::to_vec).collect()
}

/// base64 of `bytes` standing alone (padded and not), and the base64 characters that depend
/// only on `bytes` when they start 1 or 2 bytes into a 3-byte group of a longer text.
fn base64_forms(bytes: &[u8]) -> Vec<String> {
    let mut out = vec![base64(bytes, true), base64(bytes, false)];
    for skip in 1..3 {
        if let Some(rest) = bytes.get(skip..) {
            out.push(base64(&rest[..rest.len() / 3 * 3], false));
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

fn base64(bytes: &[u8], pad: bool) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..=c.len() {
            s.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
        }
        if pad {
            for _ in c.len()..3 {
                s.push('=');
            }
        }
    }
    s
}

/// `hay` without ASCII whitespace and without the escapes `\n`, `\r`, `\t` (see
/// [`View::Spaceless`]).
fn spaceless(hay: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hay.len());
    let mut i = 0;
    while i < hay.len() {
        match hay[i] {
            b'\\' if matches!(hay.get(i + 1), Some(b'n' | b'r' | b't')) => i += 2,
            b if b.is_ascii_whitespace() => i += 1,
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

/// Needles of one view indexed by their first bytes (up to 8, as a little-endian `u64`), so
/// that a haystack is read once, whatever the needles' lengths: a rolling key over the haystack,
/// a bit filter that rules out most positions at once, then the map.
struct Index {
    key: usize,
    filter: Vec<u64>,
    map: HashMap<u64, Vec<usize>>,
}

/// log2 of the filter's bits: 4 Mi bits (512 KiB) keep it sparse for thousands of seeds.
const FILTER_BITS: u32 = 22;

fn key_of(bytes: &[u8], key: usize) -> u64 {
    let mut k = [0u8; 8];
    k[..key].copy_from_slice(&bytes[..key]);
    u64::from_le_bytes(k)
}

fn slot(key: u64) -> usize {
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> (64 - FILTER_BITS)) as usize
}

impl Index {
    fn new(needles: &[Needle], view: View) -> Index {
        let of_view = || {
            needles
                .iter()
                .enumerate()
                .filter(move |(_, n)| n.view == view)
        };
        let key = of_view()
            .map(|(_, n)| n.bytes.len())
            .min()
            .unwrap_or(1)
            .clamp(1, 8);
        let mut filter = vec![0u64; 1 << (FILTER_BITS - 6)];
        let mut map: HashMap<u64, Vec<usize>> = HashMap::new();
        for (i, n) in of_view() {
            let k = key_of(&n.bytes, key);
            filter[slot(k) >> 6] |= 1 << (slot(k) & 63);
            map.entry(k).or_default().push(i);
        }
        Index { key, filter, map }
    }

    fn find(&self, needles: &[Needle], hay: &[u8]) -> Option<usize> {
        if self.map.is_empty() || hay.len() < self.key {
            return None;
        }
        let mut k = key_of(hay, self.key);
        for at in 0..=hay.len() - self.key {
            if at > 0 {
                k = (k >> 8) | (u64::from(hay[at + self.key - 1]) << (8 * (self.key - 1)));
            }
            let s = slot(k);
            if self.filter[s >> 6] & (1 << (s & 63)) == 0 {
                continue;
            }
            let found = self.map.get(&k).and_then(|candidates| {
                candidates
                    .iter()
                    .copied()
                    .find(|&i| hay[at..].starts_with(&needles[i].bytes))
            });
            if found.is_some() {
                return found;
            }
        }
        None
    }
}

/// The needles of some seeds, ready to search haystacks with.
pub struct Finder {
    needles: Vec<Needle>,
    verbatim: Index,
    spaceless: Index,
}

impl Finder {
    pub fn new(seeds: &[String]) -> Finder {
        Finder::of(seeds.iter().flat_map(|s| needles(s)).collect())
    }

    pub fn of(needles: Vec<Needle>) -> Finder {
        Finder {
            verbatim: Index::new(&needles, View::Verbatim),
            spaceless: Index::new(&needles, View::Spaceless),
            needles,
        }
    }

    /// The encoding of a needle found in `hay`, if any.
    pub fn find(&self, hay: &[u8]) -> Option<&'static str> {
        self.verbatim
            .find(&self.needles, hay)
            .or_else(|| self.spaceless.find(&self.needles, &spaceless(hay)))
            .map(|i| self.needles[i].encoding)
    }
}

/// Panics, naming the place and the encoding (never the seed), if any haystack holds any needle
/// of any seed. Panics too when given no seed: a scan for nothing would prove nothing.
pub fn assert_absent(seeds: &[String], haystacks: &[(String, Vec<u8>)]) {
    assert!(
        !seeds.is_empty(),
        "the seed scan has no seed to look for, so it would pass whatever leaked"
    );
    let finder = Finder::new(seeds);
    for (name, hay) in haystacks {
        if let Some(encoding) = finder.find(hay) {
            panic!("a seed leaked into {name} (as {encoding})");
        }
    }
}

/// The 6-digit TOTP code (SHA1, 30 s steps) of a Base32 seed at `step`.
pub fn code(seed: &str, step: u64) -> u32 {
    let key = base32::decode(
        base32::Alphabet::Rfc4648 { padding: false },
        &seed.trim_end_matches('=').to_ascii_uppercase(),
    )
    .expect("an issued seed is Base32");
    totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, key)
        .generate(step * 30)
        .parse()
        .expect("six digits")
}

/// How far apart (bytes between the end of one and the start of the other) the two codes of a
/// pair may be and still count as found together.
pub const PAIR_SPAN: usize = 300;

/// The authentication codes of some seeds over a range of steps, ready to search haystacks
/// for a pair of them.
///
/// A trace log holds six-digit numbers by chance (sizes, ids, fractions of a second, digit runs
/// inside hex digests), so a code alone proves nothing: one given code is among
/// N random six-digit numbers with probability about N/10^6. Two rules keep false alarms
/// negligible while still catching how codes travel and get logged:
/// - a code counts only as a whole token: exactly six digits, bounded by non-digits or the ends
///   (`1234567` and `123456789` hold no code);
/// - and only together with the code of the step before or after it, of the same seed, within
///   [`PAIR_SPAN`] bytes (either order): EnableMFADevice and ResyncMFADevice carry such a pair
///   (`AuthenticationCode1=…&AuthenticationCode2=…`), and any log, `Debug` print or
///   person-facing print of that request or of the codes has them side by side.
///
/// Two given six-digit values sit at two nearby tokens by chance with probability 10^-12
/// (2×10^-12 in either order). The largest bench test (tests/commands/bulk.rs: 95 seeds, 23 MB of
/// outputs at RUST_LOG=trace) holds about 1,400 six-digit tokens, of which about 350 pairs lie
/// within the span; against 95 seeds × 6 steps, that is an expected 4×10^-7 false alarms. Even
/// 10^5 such pairs against 10^4 pairs of codes would give only 2×10^-3.
pub struct CodePairs {
    first: u64,
    /// `codes[seed][step - first]`.
    codes: Vec<Vec<u32>>,
    /// Which `(seed, step - first)` give each code.
    by_code: HashMap<u32, Vec<(usize, usize)>>,
}

impl CodePairs {
    pub fn new(seeds: &[String], steps: &RangeInclusive<u64>) -> CodePairs {
        let codes: Vec<Vec<u32>> = seeds
            .iter()
            .map(|s| steps.clone().map(|t| code(s, t)).collect())
            .collect();
        let mut by_code: HashMap<u32, Vec<(usize, usize)>> = HashMap::new();
        for (k, of_seed) in codes.iter().enumerate() {
            for (i, c) in of_seed.iter().enumerate() {
                by_code.entry(*c).or_default().push((k, i));
            }
        }
        CodePairs {
            first: *steps.start(),
            codes,
            by_code,
        }
    }

    /// A pair found in `hay`: the seed's index and the earlier step of the pair.
    pub fn find(&self, hay: &[u8]) -> Option<(usize, u64)> {
        let tokens = six_digit_tokens(hay);
        for (a, &(start_a, code_a)) in tokens.iter().enumerate() {
            let Some(holders) = self.by_code.get(&code_a) else {
                continue;
            };
            let near = tokens[a + 1..]
                .iter()
                .take_while(|(start_b, _)| start_b - (start_a + 6) <= PAIR_SPAN);
            for &(_, code_b) in near {
                for &(k, i) in holders {
                    if self.codes[k].get(i + 1) == Some(&code_b) {
                        return Some((k, self.first + i as u64));
                    }
                    if i > 0 && self.codes[k][i - 1] == code_b {
                        return Some((k, self.first + i as u64 - 1));
                    }
                }
            }
        }
        None
    }
}

/// The whole six-digit tokens of `hay`: where each starts, and its value.
fn six_digit_tokens(hay: &[u8]) -> Vec<(usize, u32)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < hay.len() {
        if !hay[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < hay.len() && hay[i].is_ascii_digit() {
            i += 1;
        }
        if i - start == 6 {
            let value = hay[start..i]
                .iter()
                .fold(0u32, |v, d| v * 10 + u32::from(d - b'0'));
            out.push((start, value));
        }
    }
    out
}

/// Panics, naming the place and the step (never a code), if any haystack holds a pair of codes
/// of a seed at consecutive steps within `steps` (see [`CodePairs`]).
pub fn assert_no_code_pair(
    seeds: &[String],
    steps: &RangeInclusive<u64>,
    haystacks: &[(String, Vec<u8>)],
) {
    let pairs = CodePairs::new(seeds, steps);
    for (name, hay) in haystacks {
        if let Some((k, step)) = pairs.find(hay) {
            panic!(
                "the authentication codes of issued seed #{} at steps {step} and {} leaked into {name}",
                k + 1,
                step + 1
            );
        }
    }
}

/// Every file below `dir`, as haystacks.
pub fn files_below(dir: &std::path::Path) -> Haystacks {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if let Ok(bytes) = std::fs::read(&p) {
                out.push((p.display().to_string(), bytes));
            }
        }
    }
    out
}
