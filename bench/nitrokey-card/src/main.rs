//! `nitrokey-card`: serve Nitrokey's Secrets App to vsmartcard's vpcd as a virtual card.

use std::{path::PathBuf, process::ExitCode};

use nitrokey_card::{Config, Touch};

const USAGE: &str = "\
nitrokey-card: Nitrokey's Secrets App (YKOATH-compatible) as a virtual card for vsmartcard's vpcd

USAGE: nitrokey-card [OPTIONS]

OPTIONS:
  --port PORT             vpcd port to connect to [default: 35963]
  --host HOST             vpcd host [default: 127.0.0.1]
  --serial N              serial in the OATH SELECT answer (tag 8F); decimal or 0x-hex
                          [default: 0x12345678]
  --state-dir DIR         keep the token's flash images in DIR (internal.bin, external.bin)
                          so credentials survive restarts [default: RAM only]
  --touch MODE            touch button: approve | refuse | wait [default: approve]
                          refuse answers a presence request as timed out at once;
                          wait lets it time out after 15 s as on hardware
  --max-credentials N     credential limit of the Secrets App [default: 50]
  --atr HEX               ATR to present [default: the Nitrokey 3 ATR]
  --once                  exit when the first vpcd connection ends (default: reconnect)
  -v, --verbose           log APDUs (secret data hidden) to stderr
  -h, --help              print this help
";

fn parse_u32(s: &str) -> Result<u32, String> {
    let parsed = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => s.parse(),
    };
    parsed.map_err(|e| format!("invalid number {s:?}: {e}"))
}

fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let digits: String = s
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ':')
        .collect();
    if !digits.len().is_multiple_of(2) || digits.is_empty() {
        return Err(format!("invalid hex {s:?}"));
    }
    (0..digits.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(&digits[i..i + 2], 16).map_err(|e| format!("invalid hex {s:?}: {e}"))
        })
        .collect()
}

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<Config>, String> {
    let mut config = Config::default();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--port" => {
                let v = value("--port")?;
                config.port = v.parse().map_err(|e| format!("invalid port {v:?}: {e}"))?;
            }
            "--host" => config.host = value("--host")?,
            "--serial" => config.serial = parse_u32(&value("--serial")?)?,
            "--state-dir" => config.state_dir = Some(PathBuf::from(value("--state-dir")?)),
            "--touch" => config.touch = value("--touch")?.parse::<Touch>()?,
            "--max-credentials" => {
                let v = value("--max-credentials")?;
                config.max_credentials =
                    v.parse().map_err(|e| format!("invalid count {v:?}: {e}"))?;
            }
            "--atr" => config.atr = parse_hex(&value("--atr")?)?,
            "--once" => config.once = true,
            "-v" | "--verbose" => config.verbose = true,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(Some(config))
}

fn main() -> ExitCode {
    let config = match parse_args(std::env::args().skip(1)) {
        Ok(Some(config)) => config,
        Ok(None) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(msg) => {
            eprintln!("nitrokey-card: {msg}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    eprintln!(
        "nitrokey-card: secrets-app 0.16, serial 0x{:08X}, touch {:?}, storage {}",
        config.serial,
        config.touch,
        config
            .state_dir
            .as_ref()
            .map_or_else(|| "RAM".to_string(), |d| d.display().to_string())
    );
    match nitrokey_card::run(&config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("nitrokey-card: {err}");
            ExitCode::FAILURE
        }
    }
}
