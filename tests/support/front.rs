//! A latency front between ykmfa and the bench's IAM endpoint (`bench/iam/latency_front.py`):
//! a fixed one-way delay on every byte, a round trip more for each new connection, IAM and STS on
//! ports of their own (they are different hosts on AWS), and a count of connections and requests.

use std::path::PathBuf;
use std::process::{Child, Command};

use crate::{port_file_of, spawn, venv_bin, workspace, Bench};

/// A running front. Stopped (by its pid) when dropped.
pub struct Front {
    child: Child,
    iam: u16,
    sts: u16,
    control: u16,
    /// The round trip it adds, in milliseconds.
    pub rtt_ms: f64,
}

/// Connections and requests, per service, since the last [`Front::reset`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Traffic {
    pub connections: u64,
    pub requests: u64,
}

impl Front {
    /// A front adding `rtt_ms` (half each way) before `bench`'s IAM endpoint.
    pub fn start(bench: &Bench, rtt_ms: f64) -> Front {
        let iam = bench.iam.as_ref().expect("this bench has no IAM endpoint");
        let backend = iam.url.trim_start_matches("http://").to_owned();
        let port_file: PathBuf = bench
            .dir
            .join(format!("front-{}.ports", std::process::id()));
        let _ = std::fs::remove_file(&port_file);
        let log = bench.dir.join("front.log");
        let mut cmd = Command::new(venv_bin("python3"));
        cmd.arg(workspace().join("bench/iam/latency_front.py"))
            .arg("--backend")
            .arg(&backend)
            .arg("--one-way-ms")
            .arg((rtt_ms / 2.0).to_string())
            .arg("--port-file")
            .arg(&port_file);
        let child = spawn(&mut cmd, &log);
        let ports = port_file_of(&port_file, 30, "the latency front", &log);
        let ports: Vec<u16> = ports
            .split_whitespace()
            .map(|p| p.parse().expect("a port"))
            .collect();
        Front {
            child,
            iam: ports[0],
            sts: ports[1],
            control: ports[2],
            rtt_ms,
        }
    }

    /// `bench.env()` with IAM and STS behind this front (Organizations beside IAM).
    pub fn env(&self, bench: &Bench) -> Vec<(String, String)> {
        let mut env = bench.env();
        for (key, value) in &mut env {
            match key.as_str() {
                "AWS_ENDPOINT_URL_IAM" | "AWS_ENDPOINT_URL_ORGANIZATIONS" => {
                    *value = format!("http://127.0.0.1:{}", self.iam)
                }
                "AWS_ENDPOINT_URL_STS" => *value = format!("http://127.0.0.1:{}", self.sts),
                _ => {}
            }
        }
        env
    }

    /// Connections and requests since the last reset: (IAM, STS).
    pub fn traffic(&self) -> (Traffic, Traffic) {
        let stats = self.control_call("GET /stats");
        let of = |s: &str| Traffic {
            connections: stats[s]["connections"].as_u64().unwrap_or(0),
            requests: stats[s]["requests"].as_u64().unwrap_or(0),
        };
        (of("iam"), of("sts"))
    }

    /// Zeroes the counts.
    pub fn reset(&self) {
        self.control_call("POST /reset");
    }

    fn control_call(&self, line: &str) -> serde_json::Value {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.control))
            .expect("the latency front's control port");
        write!(
            s,
            "{line} HTTP/1.1\r\nHost: front\r\nContent-Length: 0\r\n\r\n"
        )
        .expect("send");
        let mut answer = String::new();
        s.read_to_string(&mut answer).expect("read");
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
        serde_json::from_str(body).expect("the front's stats are JSON")
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
