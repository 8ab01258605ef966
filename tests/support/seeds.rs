//! Proof that no seed leaks: every output of a run is searched for every seed the IAM endpoint
//! issued, in every encoding a leak could take.

/// The needles one Base32 seed gives: Base32 (any case, padded or not), and its bytes raw, in hex
/// (both cases) and in base64 (padded or not). Windows of 16 characters (8 raw bytes) catch a seed
/// that was cut or wrapped.
pub fn needles(seed: &str) -> Vec<Vec<u8>> {
    let b32 = seed.trim_end_matches('=').to_ascii_uppercase();
    let raw = base32::decode(base32::Alphabet::Rfc4648 { padding: false }, &b32)
        .expect("an issued seed is Base32");
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let b64 = base64(&raw);
    let mut out = Vec::new();
    for text in [b32.clone(), hex.clone(), b64.clone()] {
        for variant in [
            text.clone(),
            text.to_ascii_lowercase(),
            text.to_ascii_uppercase(),
        ] {
            out.extend(windows(variant.as_bytes(), 16));
        }
    }
    out.extend(windows(&raw, 8));
    out
}

fn windows(bytes: &[u8], n: usize) -> Vec<Vec<u8>> {
    if bytes.len() <= n {
        return vec![bytes.to_vec()];
    }
    bytes.windows(n).map(<[u8]>::to_vec).collect()
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..=c.len() {
            s.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    s
}

/// Panics, naming the place, if any haystack holds any needle of any seed. Needles come in two
/// lengths (16 for text, 8 for raw bytes; shorter only for very short seeds), so each haystack is
/// read once per length against a set, not once per needle.
pub fn assert_absent(seeds: &[String], haystacks: &[(String, Vec<u8>)]) {
    let mut by_len: std::collections::BTreeMap<usize, std::collections::HashSet<Vec<u8>>> =
        Default::default();
    for seed in seeds {
        for needle in needles(seed) {
            by_len.entry(needle.len()).or_default().insert(needle);
        }
    }
    for (name, hay) in haystacks {
        for (len, set) in &by_len {
            if hay.windows(*len).any(|w| set.contains(w)) {
                panic!("a seed leaked into {name}");
            }
        }
    }
}

/// Every file below `dir`, as haystacks.
pub fn files_below(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
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

#[test]
fn needles_cover_every_encoding() {
    let n = needles("JBSWY3DPEHPK3PXP");
    for probe in [
        &b"JBSWY3DPEHPK3PXP"[..],
        b"jbswy3dpehpk3pxp",
        b"48656c6c6f21deadbeef",
        b"48656C6C6F21DEADBEEF",
        b"SGVsbG8h3q2+7w",
        b"Hello!\xde\xad\xbe\xef",
    ] {
        assert!(
            n.iter()
                .any(|needle| probe.windows(needle.len()).any(|w| w == needle.as_slice())),
            "{probe:?}"
        );
    }
}
