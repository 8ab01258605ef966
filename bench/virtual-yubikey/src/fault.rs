//! Faults the tests arm at run time: a card that fails, lies, disappears or answers nonsense.
//!
//! Each fault has an action, an instruction filter, how many matching APDUs to let through first
//! (`skip`) and how many times it fires (`count`, or `persistent`). Adding a kind is one variant,
//! one arm in [`Action::parse`] and one in the card's `apply_fault`.

use crate::apdu::hex;
use serde_json::{json, Value};

/// What a fault does to the APDU it catches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Answer this status word instead of executing.
    Status(u16),
    /// Drop the connection without answering, as a pulled card; optionally come back later.
    Remove {
        /// Reconnect after this many milliseconds; stay out until `insert` when absent.
        reinsert_after_ms: Option<u64>,
    },
    /// Answer `9000` without executing (a PUT that stores nothing).
    Lie,
    /// Execute, then cut the answer's last byte so its last TLV is short.
    TruncatedTlv,
    /// Execute, then make the first length field claim 3 bytes more than there are.
    WrongLength,
    /// Execute, answer the first piece with `61FF`, and keep answering SEND REMAINING with more
    /// filler and `61FF` forever (until another instruction or power-off).
    EndlessChaining,
    /// Answer random bytes with the given status word instead of executing.
    Garbage {
        /// Number of random bytes.
        len: usize,
        /// Status word after them.
        sw: u16,
    },
    /// Execute, then send the data without its status word.
    NoSw,
    /// Execute, then wait this many milliseconds before answering.
    Delay(u64),
}

impl Action {
    fn parse(spec: &Value) -> Result<Action, String> {
        let kind = spec
            .get("kind")
            .and_then(Value::as_str)
            .ok_or("fault needs \"kind\"")?;
        Ok(match kind {
            "status" => Action::Status(parse_sw(
                spec.get("sw").ok_or("status fault needs \"sw\"")?,
            )?),
            "remove" => Action::Remove {
                reinsert_after_ms: spec.get("reinsert_after_ms").and_then(Value::as_u64),
            },
            "lie" => Action::Lie,
            "truncated_tlv" => Action::TruncatedTlv,
            "wrong_length" => Action::WrongLength,
            "endless_chaining" => Action::EndlessChaining,
            "garbage" => Action::Garbage {
                len: spec.get("len").and_then(Value::as_u64).unwrap_or(16) as usize,
                sw: match spec.get("sw") {
                    Some(v) => parse_sw(v)?,
                    None => 0x9000,
                },
            },
            "no_sw" => Action::NoSw,
            "delay" => Action::Delay(
                spec.get("ms")
                    .and_then(Value::as_u64)
                    .ok_or("delay fault needs \"ms\"")?,
            ),
            other => return Err(format!("unknown fault kind {other:?}")),
        })
    }

    fn to_json(&self) -> Value {
        match self {
            Action::Status(sw) => json!({"kind": "status", "sw": format!("{sw:04X}")}),
            Action::Remove { reinsert_after_ms } => {
                json!({"kind": "remove", "reinsert_after_ms": reinsert_after_ms})
            }
            Action::Lie => json!({"kind": "lie"}),
            Action::TruncatedTlv => json!({"kind": "truncated_tlv"}),
            Action::WrongLength => json!({"kind": "wrong_length"}),
            Action::EndlessChaining => json!({"kind": "endless_chaining"}),
            Action::Garbage { len, sw } => {
                json!({"kind": "garbage", "len": len, "sw": format!("{sw:04X}")})
            }
            Action::NoSw => json!({"kind": "no_sw"}),
            Action::Delay(ms) => json!({"kind": "delay", "ms": ms}),
        }
    }
}

/// A status word given as `"6A84"`, `"0x6A84"` or the number 27268.
fn parse_sw(v: &Value) -> Result<u16, String> {
    if let Some(n) = v.as_u64() {
        return u16::try_from(n).map_err(|_| format!("status word out of range: {n}"));
    }
    let s = v
        .as_str()
        .ok_or("status word must be a hex string or a number")?;
    let digits = s.trim_start_matches("0x").trim_start_matches("0X");
    u16::from_str_radix(digits, 16).map_err(|_| format!("bad status word {s:?}"))
}

/// Which APDUs a fault catches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// Every APDU.
    Any,
    /// Every APDU with this INS byte, whatever the applet (`A4` is both SELECT and CALCULATE ALL).
    Byte(u8),
    /// An instruction by name, as in the statistics: `PUT`, `CALCULATE`, `SELECT`, `READ_CONFIG`…
    Name(String),
}

impl Filter {
    fn parse(v: Option<&Value>) -> Result<Filter, String> {
        let Some(v) = v else { return Ok(Filter::Any) };
        if let Some(n) = v.as_u64() {
            return u8::try_from(n)
                .map(Filter::Byte)
                .map_err(|_| format!("INS out of range: {n}"));
        }
        let s = v
            .as_str()
            .ok_or("\"ins\" must be a name, a hex byte or a number")?;
        if s == "*" || s.is_empty() {
            return Ok(Filter::Any);
        }
        let digits = s.trim_start_matches("0x").trim_start_matches("0X");
        if digits.len() == 2 {
            if let Ok(b) = u8::from_str_radix(digits, 16) {
                return Ok(Filter::Byte(b));
            }
        }
        Ok(Filter::Name(s.to_ascii_uppercase()))
    }

    fn matches(&self, ins: u8, name: &str) -> bool {
        match self {
            Filter::Any => true,
            Filter::Byte(b) => *b == ins,
            Filter::Name(n) => n == name,
        }
    }

    fn to_json(&self) -> Value {
        match self {
            Filter::Any => json!("*"),
            Filter::Byte(b) => json!(hex(&[*b])),
            Filter::Name(n) => json!(n),
        }
    }
}

/// One armed fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// What it does.
    pub action: Action,
    /// What it catches.
    pub filter: Filter,
    /// Matching APDUs still to let through before firing.
    pub skip: u64,
    /// Firings left; `None` = persistent.
    pub remaining: Option<u64>,
}

impl Fault {
    /// From a control request: `{"kind": …, "ins": …, "count": N, "persistent": bool, "skip": N, …}`.
    pub fn parse(spec: &Value) -> Result<Fault, String> {
        let persistent = spec
            .get("persistent")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let count = spec.get("count").and_then(Value::as_u64).unwrap_or(1);
        Ok(Fault {
            action: Action::parse(spec)?,
            filter: Filter::parse(spec.get("ins"))?,
            skip: spec.get("skip").and_then(Value::as_u64).unwrap_or(0),
            remaining: if persistent { None } else { Some(count.max(1)) },
        })
    }

    /// For the `faults` listing.
    pub fn to_json(&self) -> Value {
        let mut v = self.action.to_json();
        if let Value::Object(map) = &mut v {
            map.insert("ins".into(), self.filter.to_json());
            map.insert("skip".into(), json!(self.skip));
            match self.remaining {
                Some(n) => map.insert("count".into(), json!(n)),
                None => map.insert("persistent".into(), json!(true)),
            };
        }
        v
    }
}

/// The armed faults, first armed first served.
#[derive(Debug, Default)]
pub struct Faults {
    armed: Vec<Fault>,
}

impl Faults {
    /// Arms one more.
    pub fn arm(&mut self, fault: Fault) {
        self.armed.push(fault);
    }

    /// Disarms all.
    pub fn clear(&mut self) {
        self.armed.clear();
    }

    /// The action to apply to this APDU, if a fault fires; counts it down.
    pub fn take(&mut self, ins: u8, name: &str) -> Option<Action> {
        let index = self
            .armed
            .iter()
            .position(|f| f.filter.matches(ins, name))?;
        let fault = &mut self.armed[index];
        if fault.skip > 0 {
            fault.skip -= 1;
            return None;
        }
        let action = fault.action.clone();
        if let Some(n) = &mut fault.remaining {
            *n -= 1;
            if *n == 0 {
                self.armed.remove(index);
            }
        }
        Some(action)
    }

    /// For the `faults` listing.
    pub fn to_json(&self) -> Value {
        Value::Array(self.armed.iter().map(Fault::to_json).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_counts_down() {
        let spec = json!({"kind": "status", "sw": "6A84", "ins": "put", "count": 2, "skip": 1});
        let mut faults = Faults::default();
        faults.arm(Fault::parse(&spec).unwrap());
        assert_eq!(faults.take(0x01, "LIST"), None);
        assert_eq!(faults.take(0x01, "PUT"), None); // skipped
        assert_eq!(faults.take(0x01, "PUT"), Some(Action::Status(0x6A84)));
        assert_eq!(faults.take(0x01, "PUT"), Some(Action::Status(0x6A84)));
        assert_eq!(faults.take(0x01, "PUT"), None);
    }

    #[test]
    fn byte_filter_and_persistent() {
        let spec = json!({"kind": "lie", "ins": "0xA4", "persistent": true});
        let mut faults = Faults::default();
        faults.arm(Fault::parse(&spec).unwrap());
        for _ in 0..5 {
            assert_eq!(faults.take(0xA4, "SELECT"), Some(Action::Lie));
        }
        assert_eq!(faults.to_json()[0]["persistent"], json!(true));
    }

    #[test]
    fn rejects_unknown_kind() {
        assert!(Fault::parse(&json!({"kind": "explode"})).is_err());
        assert!(Fault::parse(&json!({"kind": "status"})).is_err());
    }
}
