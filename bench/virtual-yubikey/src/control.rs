//! The control socket: tests drive the card at run time with one JSON object per line, and get one
//! JSON line back.
//!
//! Commands: `ping`, `dump`, `status`, `remove`, `insert`, `touch`, `fault`, `faults`,
//! `clear_faults`, `stats`, `reset_stats`. See the README for their fields.

use crate::device::{touch_json, Device};
use crate::fault::Fault;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::Arc;
use std::thread;

/// Binds `path` (replacing a stale socket) and serves it on a background thread.
pub fn spawn(device: Arc<Device>, path: &Path) -> std::io::Result<()> {
    if path.exists() {
        std::fs::remove_file(path)?;
    }
    let listener = UnixListener::bind(path)?;
    thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            let device = Arc::clone(&device);
            thread::spawn(move || serve(&device, conn));
        }
    });
    Ok(())
}

fn serve(device: &Arc<Device>, conn: UnixStream) {
    let Ok(mut out) = conn.try_clone() else {
        return;
    };
    for line in BufReader::new(conn).lines() {
        let Ok(line) = line else { return };
        if line.trim().is_empty() {
            continue;
        }
        let reply = respond(device, &line);
        if writeln!(out, "{reply}").is_err() {
            return;
        }
    }
}

fn error(message: impl Into<String>) -> Value {
    json!({"ok": false, "error": message.into()})
}

/// Answers one request line.
pub fn respond(device: &Arc<Device>, line: &str) -> Value {
    let request: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => return error(format!("not JSON: {e}")),
    };
    let Some(cmd) = request.get("cmd").and_then(Value::as_str) else {
        return error("missing \"cmd\"");
    };
    match cmd {
        "ping" => json!({"ok": true}),
        "dump" => device.with_card(|card| card.dump()),
        "status" => device.status_json(),
        "remove" => {
            device.remove();
            json!({"ok": true})
        }
        "insert" => {
            device.insert();
            json!({"ok": true})
        }
        "touch" => {
            let mode = request.get("mode").and_then(Value::as_str);
            if !matches!(mode, None | Some("approve") | Some("refuse")) {
                return error("touch mode is \"approve\" or \"refuse\"");
            }
            let delay = request.get("delay_ms").and_then(Value::as_u64);
            device.with_card(|card| {
                if let Some(mode) = mode {
                    card.touch.approve = mode == "approve";
                }
                if let Some(ms) = delay {
                    card.touch.delay_ms = ms;
                }
                json!({"ok": true, "touch": touch_json(card)})
            })
        }
        "fault" => match Fault::parse(&request) {
            Ok(fault) => device.with_card(|card| {
                card.arm(fault);
                json!({"ok": true, "faults": card.faults_json()})
            }),
            Err(e) => error(e),
        },
        "faults" => device.with_card(|card| json!({"ok": true, "faults": card.faults_json()})),
        "clear_faults" => device.with_card(|card| {
            card.clear_faults();
            json!({"ok": true})
        }),
        "stats" => device.with_card(|card| {
            let mut v = card.stats_json();
            v["ok"] = json!(true);
            v
        }),
        "reset_stats" => device.with_card(|card| {
            card.reset_stats();
            json!({"ok": true})
        }),
        other => error(format!("unknown cmd {other:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::{Card, Config};
    use crate::identity::Identity;
    use crate::oath::Touch;

    fn device() -> Arc<Device> {
        Device::new(
            Card::new(Config {
                identity: Identity {
                    serial: 7,
                    version: [5, 7, 1],
                    profile: crate::profile::Profile::YubiKey57,
                },
                capacity: 64,
                max_response: 256,
                touch: Touch {
                    approve: true,
                    delay_ms: 0,
                },
                verbose: false,
            }),
            None,
        )
    }

    #[test]
    fn commands_answer_json() {
        let d = device();
        assert_eq!(respond(&d, r#"{"cmd":"ping"}"#)["ok"], json!(true));
        assert_eq!(respond(&d, r#"{"cmd":"dump"}"#)["serial"], json!(7));
        let t = respond(&d, r#"{"cmd":"touch","mode":"refuse","delay_ms":50}"#);
        assert_eq!(t["touch"], json!({"mode": "refuse", "delay_ms": 50}));
        let f = respond(
            &d,
            r#"{"cmd":"fault","kind":"status","sw":"6581","ins":"PUT"}"#,
        );
        assert_eq!(f["faults"][0]["sw"], json!("6581"));
        assert_eq!(respond(&d, r#"{"cmd":"clear_faults"}"#)["ok"], json!(true));
        assert_eq!(respond(&d, r#"{"cmd":"faults"}"#)["faults"], json!([]));
        d.transmit(&[0x00, 0xA4, 0x04, 0x00, 0x05, 0xA0, 0x00, 0x00, 0x03, 0x08]);
        let s = respond(&d, r#"{"cmd":"stats"}"#);
        assert_eq!(s["by_ins"]["SELECT"], json!(1));
        assert_eq!(s["total"], json!(1));
        respond(&d, r#"{"cmd":"reset_stats"}"#);
        assert_eq!(respond(&d, r#"{"cmd":"stats"}"#)["total"], json!(0));
        assert_eq!(respond(&d, r#"{"cmd":"status"}"#)["selected"], json!("piv"));
        assert_eq!(respond(&d, "nope")["ok"], json!(false));
        assert_eq!(respond(&d, r#"{"cmd":"fly"}"#)["ok"], json!(false));
        assert_eq!(
            respond(&d, r#"{"cmd":"touch","mode":"maybe"}"#)["ok"],
            json!(false)
        );
    }

    #[test]
    fn serves_a_unix_socket() {
        let dir = std::env::temp_dir().join(format!("vyk-control-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("control.sock");
        spawn(device(), &path).unwrap();
        let mut conn = UnixStream::connect(&path).unwrap();
        conn.write_all(b"{\"cmd\":\"ping\"}\n{\"cmd\":\"dump\"}\n")
            .unwrap();
        let mut lines = BufReader::new(conn).lines();
        assert_eq!(lines.next().unwrap().unwrap(), r#"{"ok":true}"#);
        let dump: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
        assert_eq!(dump["capacity"], json!(64));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
