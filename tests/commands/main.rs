//! ykmfa's commands end to end on the bench (the real pcscd, the virtual YubiKey, `ykman` as the
//! independent client, the strict IAM endpoint): enroll, enroll --root, resync, revoke, status,
//! audit, bulk, doctor, completions and man; their golden texts; the AWS configuration they
//! read; the IAM adapter against the endpoint and against hostile answers; the text parsers
//! fuzzed; the proof that no seed leaks; and the bench's own refusal to start without what it
//! needs.
//!
//! One test binary, each former binary a module; most tests start a bench of their own and
//! drive `ykmfa` as a process, so they run side by side.

mod audit;
mod aws_config;
mod bench_preflight;
mod bulk;
mod completions;
mod doctor;
mod enroll;
mod enroll_root;
mod fuzz_text;
mod golden;
mod hardware_totp;
mod hostile_iam;
mod iam;
mod org_audit;
mod resync;
mod revoke;
mod seed_hygiene;
mod status;
