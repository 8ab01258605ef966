//! Command-line flags, parsed by hand (the bench keeps its dependencies few).

use crate::identity::parse_version;
use crate::profile::Profile;
use std::path::PathBuf;

/// Usage text.
pub const USAGE: &str = "\
virtual-yubikey: a YubiKey 5 (OATH, Management, OTP probe, minimal PIV) for vsmartcard's vpcd,
or another token that speaks YKOATH (--profile)

USAGE: virtual-yubikey [FLAGS]

  --profile NAME         the token played (default yubikey5):
                           yubikey5      YubiKey 5 NFC 5.4.3, 32 OATH credentials
                           yubikey5-57   YubiKey 5 NFC 5.7.1, 64 OATH credentials
                           neo           YubiKey NEO 3.5.0: no READ CONFIG, OATH bounded by
                                         one CALCULATE ALL answer (6A84 when full)
                           fips          YubiKey 5 NFC FIPS 5.7.4: PUT 6985 until an OATH
                                         password is set, which can't be removed
                           bio           YubiKey Bio Multi-protocol: Management + PIV, no OATH
                           security-key  Security Key NFC: Management only, no serial
                           solo2         Solo 2 (oath-authenticator 4.4.4): OATH only
                           pico-fido     pico-fido: OATH only, PUT appends duplicates,
                                         touch never enforced
  --port PORT            vpcd port to connect to (default 35963; slot 1 of a reader entry is PORT+1)
  --host HOST            vpcd host (default 127.0.0.1)
  --serial N             serial number (default 12345678)
  --version X.Y.Z        firmware version (default: the profile's)
  --capacity N           OATH credential slots (default: the profile's; a YubiKey 5 32, 64 from 5.7)
  --touch approve|refuse what a touch request gets (default approve)
  --touch-delay-ms MS    time before a touch is answered (default 0)
  --max-response BYTES   response data per piece before 61xx chaining (default 256)
  --state-file PATH      JSON dump rewritten after every change (no keys, fingerprints only)
  --control PATH         Unix socket for line-delimited JSON control commands
  --verbose, -v          one line per APDU on stderr, secrets redacted
  --help, -h             this text
";

/// Validated flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// vpcd host.
    pub host: String,
    /// vpcd port.
    pub port: u16,
    /// Serial number.
    pub serial: u32,
    /// The token played.
    pub profile: Profile,
    /// Firmware version override.
    pub version: Option<[u8; 3]>,
    /// OATH capacity override.
    pub capacity: Option<usize>,
    /// Touch approved?
    pub touch_approve: bool,
    /// Touch delay.
    pub touch_delay_ms: u64,
    /// Chaining threshold.
    pub max_response: usize,
    /// State dump path.
    pub state_file: Option<PathBuf>,
    /// Control socket path.
    pub control: Option<PathBuf>,
    /// Log APDUs.
    pub verbose: bool,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            host: "127.0.0.1".into(),
            port: 35963,
            serial: 12345678,
            profile: Profile::YubiKey5,
            version: None,
            capacity: None,
            touch_approve: true,
            touch_delay_ms: 0,
            max_response: 256,
            state_file: None,
            control: None,
            verbose: false,
        }
    }
}

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    /// Run with these options.
    Run(Options),
    /// Print usage.
    Help,
}

fn number<T: std::str::FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{flag}: not a valid number: {value:?}"))
}

/// Parses flags (`--flag value` or `--flag=value`).
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Parsed, String> {
    let mut o = Options::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        match flag.as_str() {
            "--help" | "-h" => return Ok(Parsed::Help),
            "--verbose" | "-v" => {
                o.verbose = true;
                continue;
            }
            _ => {}
        }
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{flag} needs a value"))
        };
        match flag.as_str() {
            "--port" => o.port = number(&flag, &value()?)?,
            "--host" => o.host = value()?,
            "--serial" => o.serial = number(&flag, &value()?)?,
            "--version" => {
                let v = value()?;
                o.version =
                    Some(parse_version(&v).ok_or(format!("--version: expected X.Y.Z, got {v:?}"))?);
            }
            "--profile" => {
                let v = value()?;
                o.profile = Profile::parse(&v).ok_or(format!(
                    "--profile: one of {}, not {v:?}",
                    Profile::ALL.map(Profile::name).join(", ")
                ))?;
            }
            "--capacity" => o.capacity = Some(number(&flag, &value()?)?),
            "--touch" => {
                o.touch_approve = match value()?.as_str() {
                    "approve" => true,
                    "refuse" => false,
                    other => return Err(format!("--touch: approve or refuse, not {other:?}")),
                }
            }
            "--touch-delay-ms" => o.touch_delay_ms = number(&flag, &value()?)?,
            "--max-response" => {
                o.max_response = number(&flag, &value()?)?;
                if o.max_response == 0 {
                    return Err("--max-response must be at least 1".into());
                }
            }
            "--state-file" => o.state_file = Some(PathBuf::from(value()?)),
            "--control" => o.control = Some(PathBuf::from(value()?)),
            _ => return Err(format!("unknown argument {arg:?} (see --help)")),
        }
    }
    Ok(Parsed::Run(o))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<Parsed, String> {
        parse(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn defaults_and_flags() {
        assert_eq!(run(&[]), Ok(Parsed::Run(Options::default())));
        let Ok(Parsed::Run(o)) = run(&[
            "--port=40200",
            "--serial",
            "99",
            "--version",
            "5.7.1",
            "--touch",
            "refuse",
            "--touch-delay-ms",
            "15000",
            "--capacity",
            "3",
            "--max-response",
            "100",
            "--state-file",
            "/tmp/s.json",
            "--control",
            "/tmp/c.sock",
            "-v",
        ]) else {
            panic!("parse failed")
        };
        assert_eq!((o.port, o.serial, o.version), (40200, 99, Some([5, 7, 1])));
        assert_eq!((o.touch_approve, o.touch_delay_ms), (false, 15000));
        assert_eq!(
            (o.capacity, o.max_response, o.verbose),
            (Some(3), 100, true)
        );
        assert_eq!(run(&["--help"]), Ok(Parsed::Help));
    }

    #[test]
    fn rejects_bad_values() {
        assert!(run(&["--port", "x"]).is_err());
        assert!(run(&["--port"]).is_err());
        assert!(run(&["--touch", "maybe"]).is_err());
        assert!(run(&["--version", "5"]).is_err());
        assert!(run(&["--max-response", "0"]).is_err());
        assert!(run(&["--bogus"]).is_err());
        assert!(run(&["--profile", "yubikey4"]).is_err());
    }

    #[test]
    fn profiles() {
        let Ok(Parsed::Run(o)) = run(&["--profile", "pico-fido"]) else {
            panic!("parse failed")
        };
        assert_eq!((o.profile, o.version), (Profile::PicoFido, None));
    }
}
