//! The IAM layer against the strict bench IAM endpoint (`bench/iam`, moto patched to check codes,
//! refuse deleting assigned devices, keep tags, and fail on command).
//!
//! One server per test process, started on a free port by the first test that needs it, under
//! `setpriv --pdeathsig KILL` from a thread that lives as long as the process, so it dies with
//! the test binary. Each test works in its own AWS account (the bench selects the account from
//! the access key id), so tests run in parallel without seeing each other's users, devices or
//! faults.
//!
//! Tests that need a process environment of their own (endpoint variables, profiles, no
//! credentials, `LOG_SENSITIVE_BODIES`) run this binary again as a child with a cleared
//! environment and one `#[ignore]`d test selected.

// Helpers panic with a message on a broken bench, as tests do.
#![allow(clippy::expect_used)]

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::TcpStream;

use std::process::{Command, Stdio};
use std::sync::{mpsc, Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_iam::config::{Credentials, SharedCredentialsProvider};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha1::Sha1;
use ykmfa::iam::{
    harden_process_env, AssignmentStatus, CreatedDevice, Directory, IamError, Options, Sdk,
};

// ---- the bench server ----

struct Server {
    url: String,
    addr: String,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        if let Ok(url) = std::env::var("YKMFA_IAM_URL") {
            // A child process uses its parent's server.
            let addr = url.trim_start_matches("http://").to_string();
            return Server { url, addr };
        }
        remove_stale_dirs();
        let dir = std::env::temp_dir().join(format!("ykmfa-iam-tests-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let port_file = dir.join("port");
        let _ = std::fs::remove_file(&port_file);
        let log = std::fs::File::create(dir.join("strict-iam.log")).expect("log file");
        let mut cmd = Command::new("setpriv");
        cmd.args(["--pdeathsig", "KILL", "--"])
            .arg(support::venv_bin("python"))
            .arg(support::workspace().join("bench/iam/strict_iam.py"))
            .args(["--host", "127.0.0.1", "--port", "0", "--port-file"])
            .arg(&port_file)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log);
        // PR_SET_PDEATHSIG fires when the thread that forked the child ends, so the server is
        // started from a thread that never ends: it dies with the test process, never sooner.
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("strict-iam".into())
            .spawn(move || {
                let child = cmd.spawn();
                let ok = child.is_ok();
                tx.send(child.map(|c| c.id()).map_err(|e| e.to_string()))
                    .expect("send");
                if ok {
                    loop {
                        std::thread::park();
                    }
                }
            })
            .expect("thread");
        let pid = rx
            .recv()
            .expect("keeper")
            .unwrap_or_else(|e| panic!("cannot start setpriv/python: {e}"));
        let deadline = Instant::now() + Duration::from_secs(60);
        let port = loop {
            if let Ok(p) = std::fs::read_to_string(&port_file) {
                break p.trim().to_string();
            }
            assert!(
                Instant::now() < deadline,
                "the strict IAM endpoint (pid {pid}) did not start; see {}",
                dir.join("strict-iam.log").display()
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let addr = format!("127.0.0.1:{port}");
        Server {
            url: format!("http://{addr}"),
            addr,
        }
    })
}

/// Removes the directories of earlier test processes that have ended (logs and port files).
fn remove_stale_dirs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let pid = ["ykmfa-iam-tests-", "ykmfa-iam-home-", "ykmfa-iam-profile-"]
            .iter()
            .find_map(|prefix| name.strip_prefix(prefix))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<u32>().ok());
        if let Some(pid) = pid {
            if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
}

/// One HTTP/1.1 exchange with the bench server: the status and the body. The body is read by
/// its Content-Length (the server may keep the connection open), with a read time-out.
fn http(method: &str, path: &str, body: Option<&Value>) -> (u16, String) {
    let server = server();
    let mut stream = TcpStream::connect(&server.addr).expect("connect to the bench");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let body = body.map(Value::to_string).unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        server.addr,
        body.len()
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut data = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).to_string();
            let length = head
                .lines()
                .find_map(|l| {
                    let (name, value) = l.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())
                        .flatten()
                })
                .unwrap_or_else(|| panic!("{method} {path}: no Content-Length in {head}"));
            if data.len() >= end + 4 + length {
                let status = head
                    .split_whitespace()
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .unwrap_or_else(|| panic!("{method} {path}: {head}"));
                let body = String::from_utf8_lossy(&data[end + 4..end + 4 + length]).to_string();
                return (status, body);
            }
        }
        let n = stream
            .read(&mut chunk)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        assert!(n > 0, "{method} {path}: the connection closed early");
        data.extend_from_slice(&chunk[..n]);
    }
}

/// A bench-only request (`/_bench/...`), JSON in and out.
fn bench(method: &str, path: &str, body: Value) -> Value {
    let body = (method != "GET").then_some(&body);
    let (status, text) = http(method, path, body);
    assert_eq!(status, 200, "{method} {path}: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

fn fault(account: &str, mut spec: Value) -> u64 {
    spec["account"] = json!(account);
    bench("POST", "/_bench/faults", spec)["id"]
        .as_u64()
        .expect("fault id")
}

fn clear_fault(id: u64) {
    bench("POST", "/_bench/faults/clear", json!({ "id": id }));
}

fn calls(account: &str, action: &str) -> usize {
    bench("GET", &format!("/_bench/calls?action={action}"), json!({}))["calls"]
        .as_array()
        .expect("calls")
        .iter()
        .filter(|c| c["account"] == account)
        .count()
}

fn device_exists(serial: &str) -> bool {
    http("GET", &format!("/_bench/device?serial={serial}"), None).0 == 200
}

/// The server's current 30-second step (the bench clock may be offset from ours).
fn server_step() -> u64 {
    bench("GET", "/_bench/time", json!({}))["step"]
        .as_u64()
        .expect("step")
}

/// RFC 6238 TOTP, SHA-1, 6 digits.
fn totp(seed: &[u8], step: u64) -> String {
    let mut mac = Hmac::<Sha1>::new_from_slice(seed).expect("any key length");
    mac.update(&step.to_be_bytes());
    let h = mac.finalize().into_bytes();
    let o = usize::from(h[19] & 0x0f);
    let v = u32::from_be_bytes([h[o], h[o + 1], h[o + 2], h[o + 3]]) & 0x7fff_ffff;
    format!("{:06}", v % 1_000_000)
}

/// The codes of steps `last - 1` and `last`, as a token computes them at once.
fn pair(device: &CreatedDevice, last: u64) -> (String, String) {
    (
        totp(device.seed.expose(), last - 1),
        totp(device.seed.expose(), last),
    )
}

// ---- one account per test ----

struct Account {
    id: String,
    sdk: Sdk,
    /// A plain SDK client for setting the scene (users, aliases, policies).
    admin: aws_sdk_iam::Client,
}

fn access_key(account: &str) -> String {
    bench(
        "GET",
        &format!("/_bench/access-key?account={account}"),
        json!({}),
    )["access_key_id"]
        .as_str()
        .expect("key")
        .to_string()
}

fn static_config(key: &str) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            key,
            "bench-secret",
            None,
            None,
            "ykmfa-tests",
        )))
        .build()
}

fn fast() -> Options {
    Options {
        retry_base_delay: Duration::from_millis(10),
        ..Options::default()
    }
}

fn account(n: u32, options: Options) -> Account {
    let id = format!("30000000{n:04}");
    let config = static_config(&access_key(&id));
    let sdk = Sdk::from_config(
        &config,
        Options {
            endpoint_url: Some(server().url.clone()),
            ..options
        },
    )
    .expect("sdk");
    let admin = aws_sdk_iam::Client::from_conf(
        aws_sdk_iam::config::Builder::from(&config)
            .endpoint_url(&server().url)
            .build(),
    );
    Account { id, sdk, admin }
}

impl Account {
    async fn user(&self, name: &str) {
        self.admin
            .create_user()
            .user_name(name)
            .send()
            .await
            .expect("create user");
    }

    fn count(&self, action: &str) -> u32 {
        self.sdk
            .calls()
            .into_iter()
            .find(|(a, _)| *a == action)
            .map_or(0, |(_, n)| n)
    }
}

// ---- identity and account ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_identity_names_the_account_and_root() {
    let a = account(1, fast());
    let me = a.sdk.caller_identity().await.expect("identity");
    assert_eq!(me.account, a.id);
    assert_eq!(me.partition(), Some("aws"));
    assert!(!me.is_root());

    let root_key = "AKIAROOTKEYFORTEST01";
    bench(
        "POST",
        "/_bench/root",
        json!({ "account": a.id, "add_access_key_id": root_key }),
    );
    let root = Sdk::from_config(
        &static_config(root_key),
        Options {
            endpoint_url: Some(server().url.clone()),
            ..fast()
        },
    )
    .expect("sdk");
    let me = root.caller_identity().await.expect("identity");
    assert_eq!(me.account, a.id);
    assert!(me.is_root(), "{}", me.arn);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_posture_for_audits() {
    let a = account(2, fast());
    assert_eq!(a.sdk.account_alias().await.expect("alias"), None);
    a.admin
        .create_account_alias()
        .account_alias("bench-two")
        .send()
        .await
        .expect("alias");
    assert_eq!(
        a.sdk.account_alias().await.expect("alias").as_deref(),
        Some("bench-two")
    );

    let id = fault(
        &a.id,
        json!({"action": "ListAccountAliases", "code": "AccessDenied"}),
    );
    let err = a.sdk.account_alias().await.expect_err("denied");
    assert!(
        matches!(
            err,
            IamError::AccessDenied {
                action: "iam:ListAccountAliases",
                ..
            }
        ),
        "{err:?}"
    );
    clear_fault(id);

    bench(
        "POST",
        "/_bench/root",
        json!({"account": a.id, "mfa_enabled": false, "access_keys_present": true}),
    );
    let summary = a.sdk.get_account_summary().await.expect("summary");
    assert_eq!(summary.get("AccountMFAEnabled"), Some(&0));
    assert_eq!(summary.get("AccountAccessKeysPresent"), Some(&1));

    assert_eq!(
        a.sdk.get_account_password_policy().await.expect("none"),
        None
    );
    a.admin
        .update_account_password_policy()
        .minimum_password_length(14)
        .require_symbols(true)
        .send()
        .await
        .expect("policy");
    let policy = a
        .sdk
        .get_account_password_policy()
        .await
        .expect("policy")
        .expect("some");
    assert_eq!(policy.minimum_password_length, Some(14));
    assert!(policy.require_symbols);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_and_login_profiles() {
    let a = account(
        3,
        Options {
            page_size: Some(2),
            ..fast()
        },
    );
    for name in ["alice", "bob", "carol", "dave", "erin"] {
        a.user(name).await;
    }
    let users = a.sdk.list_users().await.expect("users");
    let names: HashSet<_> = users.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(
        names,
        HashSet::from(["alice", "bob", "carol", "dave", "erin"])
    );
    // moto's ListUsers ignores MaxItems: paging is covered by the MFA device lists below.

    let alice = a.sdk.get_user("alice").await.expect("alice");
    assert_eq!(alice.arn, format!("arn:aws:iam::{}:user/alice", a.id));
    let err = a.sdk.get_user("mallory").await.expect_err("no such user");
    assert!(
        matches!(
            err,
            IamError::NoSuchEntity {
                action: "iam:GetUser",
                ..
            }
        ),
        "{err:?}"
    );

    assert!(!a.sdk.get_login_profile("alice").await.expect("profile"));
    a.admin
        .create_login_profile()
        .user_name("alice")
        .password("A-long-enough-password-1")
        .send()
        .await
        .expect("login profile");
    assert!(a.sdk.get_login_profile("alice").await.expect("profile"));
}

// ---- the enrollment path ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_enable_resync_deactivate_delete() {
    let a = account(10, fast());
    a.user("alice").await;
    let device = a
        .sdk
        .create_virtual_mfa_device("alice-yk", None, &[])
        .await
        .expect("created");
    assert_eq!(device.serial, format!("arn:aws:iam::{}:mfa/alice-yk", a.id));
    assert_eq!(device.seed.len(), 40, "64 Base32 characters, as AWS issues");

    // Wrong codes (ten minutes old) are refused and do not use the device up.
    let now = server_step();
    let (old1, old2) = pair(&device, now - 10);
    let err = a
        .sdk
        .enable_mfa_device("alice", &device.serial, &old1, &old2)
        .await
        .expect_err("old codes");
    assert!(
        matches!(
            err,
            IamError::InvalidAuthenticationCode {
                action: "iam:EnableMFADevice",
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        !format!("{err} {err:?}").contains(&old1),
        "codes are not repeated"
    );

    // T-1 and T, computed at once.
    let now = server_step();
    let (c1, c2) = pair(&device, now);
    a.sdk
        .enable_mfa_device("alice", &device.serial, &c1, &c2)
        .await
        .expect("enabled");

    let mine = a.sdk.list_mfa_devices(Some("alice")).await.expect("list");
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0].serial, device.serial);
    assert_eq!(mine[0].user.as_deref(), Some("alice"));
    assert!(mine[0].enable_date.is_some());
    let assigned = a
        .sdk
        .list_virtual_mfa_devices(AssignmentStatus::Assigned)
        .await
        .expect("list");
    assert_eq!(assigned.len(), 1);
    assert_eq!(assigned[0].user.as_deref(), Some("alice"));
    assert!(assigned[0].is_assigned() && !assigned[0].is_root());

    // A resync with the next two steps; then wrong codes.
    let (r1, r2) = (
        totp(device.seed.expose(), now + 1),
        totp(device.seed.expose(), now + 2),
    );
    a.sdk
        .resync_mfa_device("alice", &device.serial, &r1, &r2)
        .await
        .expect("resynced");
    let err = a
        .sdk
        .resync_mfa_device("alice", &device.serial, &r1, &r2)
        .await
        .expect_err("a used pair");
    assert!(
        matches!(err, IamError::InvalidAuthenticationCode { .. }),
        "{err:?}"
    );

    // Assigned: delete is refused.
    let err = a
        .sdk
        .delete_virtual_mfa_device(&device.serial)
        .await
        .expect_err("assigned");
    assert!(
        matches!(
            err,
            IamError::DeleteConflict {
                action: "iam:DeleteVirtualMFADevice",
                ..
            }
        ),
        "{err:?}"
    );

    a.sdk
        .deactivate_mfa_device(Some("alice"), &device.serial)
        .await
        .expect("deactivated");
    assert!(a
        .sdk
        .list_mfa_devices(Some("alice"))
        .await
        .expect("list")
        .is_empty());
    a.sdk
        .delete_virtual_mfa_device(&device.serial)
        .await
        .expect("deleted");
    assert!(a
        .sdk
        .list_virtual_mfa_devices(AssignmentStatus::Any)
        .await
        .expect("list")
        .is_empty());

    let err = a
        .sdk
        .create_virtual_mfa_device("bad name!", None, &[])
        .await
        .expect_err("invalid");
    assert!(matches!(err, IamError::InvalidInput(_)), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_name_is_entity_already_exists() {
    let a = account(11, fast());
    a.sdk
        .create_virtual_mfa_device("dup", None, &[])
        .await
        .expect("first");
    let err = a
        .sdk
        .create_virtual_mfa_device("dup", Some("/team/"), &[])
        .await
        .expect_err("taken");
    assert!(
        matches!(
            err,
            IamError::EntityAlreadyExists {
                action: "iam:CreateVirtualMFADevice",
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn virtual_devices_are_listed_across_pages() {
    let a = account(
        12,
        Options {
            page_size: Some(2),
            ..fast()
        },
    );
    a.user("alice").await;
    let mut serials = HashSet::new();
    for i in 0..5 {
        let d = a
            .sdk
            .create_virtual_mfa_device(&format!("page-{i}"), Some("/ykmfa/"), &[])
            .await
            .expect("created");
        assert!(d.serial.ends_with(&format!(":mfa/ykmfa/page-{i}")));
        serials.insert(d.serial);
    }
    a.sdk.reset_calls();
    let all = a
        .sdk
        .list_virtual_mfa_devices(AssignmentStatus::Any)
        .await
        .expect("list");
    let listed: HashSet<_> = all.iter().map(|d| d.serial.clone()).collect();
    assert_eq!(listed, serials);
    assert_eq!(a.count("iam:ListVirtualMFADevices"), 3, "pages of 2, 2, 1");
    assert!(all.iter().all(|d| !d.is_assigned()));
    let unassigned = a
        .sdk
        .list_virtual_mfa_devices(AssignmentStatus::Unassigned)
        .await
        .expect("list");
    assert_eq!(unassigned.len(), 5);
    assert!(a
        .sdk
        .list_virtual_mfa_devices(AssignmentStatus::Assigned)
        .await
        .expect("list")
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_round_trip() {
    let a = account(
        13,
        Options {
            page_size: Some(1),
            ..fast()
        },
    );
    let tags = vec![
        ("ykmfa:token-serial".to_string(), "12345678".to_string()),
        ("owner".to_string(), "alice".to_string()),
    ];
    let device = a
        .sdk
        .create_virtual_mfa_device("tagged", None, &tags)
        .await
        .expect("created");
    let listed: HashSet<_> = a
        .sdk
        .list_mfa_device_tags(&device.serial)
        .await
        .expect("tags")
        .into_iter()
        .collect();
    assert_eq!(listed, tags.iter().cloned().collect());
    assert_eq!(a.count("iam:ListMFADeviceTags"), 2, "pages of 1");

    a.sdk
        .tag_mfa_device(
            &device.serial,
            &[
                ("owner".to_string(), "bob".to_string()),
                ("team".to_string(), "sec".to_string()),
            ],
        )
        .await
        .expect("tagged");
    let listed: HashSet<_> = a
        .sdk
        .list_mfa_device_tags(&device.serial)
        .await
        .expect("tags")
        .into_iter()
        .collect();
    let expected: HashSet<_> = [
        ("ykmfa:token-serial", "12345678"),
        ("owner", "bob"),
        ("team", "sec"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(listed, expected);

    let err = a
        .sdk
        .list_mfa_device_tags(&format!("arn:aws:iam::{}:mfa/nothing", a.id))
        .await
        .expect_err("no device");
    assert!(matches!(err, IamError::NoSuchEntity { .. }), "{err:?}");
}

// ---- faults ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_twice_then_success() {
    let a = account(20, fast());
    a.user("alice").await;
    fault(
        &a.id,
        json!({"action": "ListUsers", "code": "Throttling", "count": 2}),
    );
    let users = a.sdk.list_users().await.expect("third attempt");
    assert_eq!(users.len(), 1);
    assert_eq!(calls(&a.id, "ListUsers"), 3, "two throttled, one answered");
    assert_eq!(
        a.count("iam:ListUsers"),
        1,
        "the SDK retried, not the adapter"
    );

    let id = fault(
        &a.id,
        json!({"action": "ListUsers", "code": "Throttling", "count": "always"}),
    );
    let err = a.sdk.list_users().await.expect_err("throttled");
    clear_fault(id);
    assert_eq!(
        err,
        IamError::Throttling {
            action: "iam:ListUsers"
        }
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn access_denied_on_delete_names_the_action() {
    let a = account(21, fast());
    let device = a
        .sdk
        .create_virtual_mfa_device("denied", None, &[])
        .await
        .expect("created");
    fault(
        &a.id,
        json!({"action": "DeleteVirtualMFADevice", "code": "AccessDenied"}),
    );
    let err = a
        .sdk
        .delete_virtual_mfa_device(&device.serial)
        .await
        .expect_err("denied");
    let IamError::AccessDenied { action, message } = &err else {
        panic!("expected AccessDenied, got {err:?}");
    };
    assert_eq!(*action, "iam:DeleteVirtualMFADevice");
    assert!(message.contains("not authorized"), "{message}");
    assert!(err.policy_docs_url().is_some());
    assert!(device_exists(&device.serial));
    a.sdk
        .delete_virtual_mfa_device(&device.serial)
        .await
        .expect("allowed again");
    assert!(!device_exists(&device.serial));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tagging_denied_then_created_without_tags() {
    let a = account(22, fast());
    fault(
        &a.id,
        json!({
            "action": "CreateVirtualMFADevice",
            "code": "AccessDenied",
            "message": format!("User: arn:aws:iam::{}:user/alice is not authorized to perform: \
                                iam:TagMFADevice on resource: arn:aws:iam::{}:mfa/t", a.id, a.id),
        }),
    );
    let tags = [("owner".to_string(), "alice".to_string())];
    let err = a
        .sdk
        .create_virtual_mfa_device("t", None, &tags)
        .await
        .expect_err("tagging denied");
    assert!(matches!(err, IamError::TaggingDenied { .. }), "{err:?}");
    let device = a
        .sdk
        .create_virtual_mfa_device("t", None, &[])
        .await
        .expect("without tags");
    assert!(a
        .sdk
        .list_mfa_device_tags(&device.serial)
        .await
        .expect("tags")
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entity_temporarily_unmodifiable_is_retried_on_enable() {
    let a = account(23, fast());
    a.user("alice").await;
    let device = a
        .sdk
        .create_virtual_mfa_device("busy", None, &[])
        .await
        .expect("created");
    fault(
        &a.id,
        json!({"action": "EnableMFADevice", "code": "EntityTemporarilyUnmodifiable", "count": 2}),
    );
    let (c1, c2) = pair(&device, server_step());
    a.sdk
        .enable_mfa_device("alice", &device.serial, &c1, &c2)
        .await
        .expect("third attempt");
    assert_eq!(calls(&a.id, "EnableMFADevice"), 3);
    assert_eq!(a.count("iam:EnableMFADevice"), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_that_never_comes_is_timeout() {
    let a = account(
        24,
        Options {
            attempt_timeout: Duration::from_millis(300),
            operation_timeout: Duration::from_millis(900),
            ..fast()
        },
    );
    let id = fault(
        &a.id,
        json!({"action": "GetAccountSummary", "kind": "delay", "delay_ms": 3000, "count": "always"}),
    );
    let started = Instant::now();
    let err = a.sdk.get_account_summary().await.expect_err("too slow");
    clear_fault(id);
    assert_eq!(
        err,
        IamError::Timeout {
            action: "iam:GetAccountSummary"
        }
    );
    assert!(err.outcome_unknown());
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_create_answers_are_malformed_and_cleaned_up() {
    let a = account(25, fast());
    for (i, spec) in [
        json!({"kind": "bad_seed"}),
        json!({"kind": "drop_field", "field": "Base32StringSeed"}),
        json!({"kind": "malformed"}),
        json!({"kind": "empty"}),
    ]
    .into_iter()
    .enumerate()
    {
        let mut spec = spec;
        spec["action"] = json!("CreateVirtualMFADevice");
        fault(&a.id, spec.clone());
        let name = format!("unusable-{i}");
        let err = a
            .sdk
            .create_virtual_mfa_device(&name, None, &[])
            .await
            .expect_err("unusable");
        let IamError::Malformed(text) = &err else {
            panic!("{spec}: expected Malformed, got {err:?}");
        };
        assert!(!text.contains("not-base32"), "{spec}: the bad seed leaked");
        assert!(text.contains("deleted again"), "{spec}: {text}");
        let serial = format!("arn:aws:iam::{}:mfa/{name}", a.id);
        assert!(
            !device_exists(&serial),
            "{spec}: the device was left behind"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_create_answer_leaves_nothing_behind() {
    let a = account(26, fast());
    fault(
        &a.id,
        json!({"action": "CreateVirtualMFADevice", "code": "ServiceFailure", "when": "after"}),
    );
    let err = a
        .sdk
        .create_virtual_mfa_device("lost", None, &[])
        .await
        .expect_err("the answer was lost");
    assert!(
        matches!(err, IamError::ServiceFailure { .. }) && err.outcome_unknown(),
        "{err:?}"
    );
    assert_eq!(calls(&a.id, "CreateVirtualMFADevice"), 1, "not resent");
    assert!(!device_exists(&format!("arn:aws:iam::{}:mfa/lost", a.id)));
    // Clean, so the caller can simply try again.
    a.sdk
        .create_virtual_mfa_device("lost", None, &[])
        .await
        .expect("second try");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_connection_is_network() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", closed.local_addr().expect("addr"));
    drop(closed);
    let sdk = Sdk::from_config(
        &static_config("AKIAIOSFODNN7EXAMPLE"),
        Options {
            endpoint_url: Some(url),
            max_attempts: 1,
            ..fast()
        },
    )
    .expect("sdk");
    let err = sdk.caller_identity().await.expect_err("refused");
    assert!(matches!(err, IamError::Network(_)), "{err:?}");

    let err = Sdk::from_config(
        &static_config("AKIAIOSFODNN7EXAMPLE"),
        Options {
            endpoint_url: Some("127.0.0.1:5000".into()),
            ..fast()
        },
    )
    .err()
    .expect("no scheme");
    assert!(matches!(err, IamError::InvalidInput(_)), "{err:?}");
}

// ---- child processes: environment, profiles, credentials, logs ----

const CHILD: &str = "YKMFA_IAM_CHILD";

/// Runs one `#[ignore]`d test of this binary in a child with a clean environment plus `env`.
fn run_child(test: &str, env: &[(&str, &str)]) -> String {
    let home = std::env::temp_dir().join(format!("ykmfa-iam-home-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&home).expect("home");
    // libtest names the test by its path in the test binary: this module's, then its name.
    let module = module_path!()
        .split_once("::")
        .map_or("", |(_, module)| module);
    let name = format!("{module}::{test}");
    let output = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            name.as_str(),
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("AWS_CONFIG_FILE", home.join("no-config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join("no-credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env(CHILD, "1")
        .env("YKMFA_IAM_URL", &server().url)
        .envs(env.iter().copied())
        .output()
        .expect("run the child");
    let _ = std::fs::remove_dir_all(&home);
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "child {test} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Fails unless this process is a child [`run_child`] started: an `#[ignore]`d child test run
/// by hand would otherwise pass without having checked anything.
fn in_child() {
    assert!(
        std::env::var_os(CHILD).is_some(),
        "this test runs only in the child process that its parent test starts (with {CHILD} and the environment it checks): run the parent test"
    );
}

#[test]
fn endpoint_variables_are_honoured() {
    let key = access_key("300000000030");
    let url = server().url.clone();
    for vars in [
        vec![
            ("AWS_ENDPOINT_URL_IAM", url.as_str()),
            ("AWS_ENDPOINT_URL_STS", url.as_str()),
        ],
        vec![("AWS_ENDPOINT_URL", url.as_str())],
    ] {
        let mut env = vars.clone();
        env.extend([
            ("AWS_ACCESS_KEY_ID", key.as_str()),
            ("AWS_SECRET_ACCESS_KEY", "bench"),
            ("EXPECT_ACCOUNT", "300000000030"),
        ]);
        run_child("child_connect_from_environment", &env);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "runs in a child process (endpoint_variables_are_honoured)"]
async fn child_connect_from_environment() {
    in_child();
    let sdk = Sdk::connect(fast()).await.expect("connect");
    let me = sdk.caller_identity().await.expect("identity through STS");
    assert_eq!(
        me.account,
        std::env::var("EXPECT_ACCOUNT").expect("expected")
    );
    sdk.list_users().await.expect("IAM too");
}

#[test]
fn a_profile_selects_the_account() {
    let dir = std::env::temp_dir().join(format!("ykmfa-iam-profile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let credentials = dir.join("credentials");
    std::fs::write(
        &credentials,
        format!(
            "[bench-b]\naws_access_key_id = {}\naws_secret_access_key = bench\n",
            access_key("300000000031")
        ),
    )
    .expect("credentials file");
    run_child(
        "child_connect_with_profile",
        &[
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                credentials.to_str().expect("utf-8"),
            ),
            ("EXPECT_ACCOUNT", "300000000031"),
        ],
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "runs in a child process (a_profile_selects_the_account)"]
async fn child_connect_with_profile() {
    in_child();
    let sdk = Sdk::connect(Options {
        profile: Some("bench-b".into()),
        endpoint_url: std::env::var("YKMFA_IAM_URL").ok(),
        ..fast()
    })
    .await
    .expect("connect");
    let me = sdk.caller_identity().await.expect("identity");
    assert_eq!(
        me.account,
        std::env::var("EXPECT_ACCOUNT").expect("expected")
    );
}

#[test]
fn no_credentials_at_all() {
    run_child("child_no_credentials", &[]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "runs in a child process (no_credentials_at_all)"]
async fn child_no_credentials() {
    in_child();
    let sdk = Sdk::connect(Options {
        endpoint_url: std::env::var("YKMFA_IAM_URL").ok(),
        ..fast()
    })
    .await
    .expect("connect");
    let err = sdk.caller_identity().await.expect_err("no credentials");
    assert!(matches!(err, IamError::NoCredentials(_)), "{err:?}");
}

// ---- the seed never reaches a log ----

/// A tracing writer into memory.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("capture").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(A[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Every encoding of the seed a log could show.
fn seed_forms(seed: &[u8]) -> Vec<String> {
    let b32 = base32::encode(base32::Alphabet::Rfc4648 { padding: false }, seed);
    let hex: String = seed.iter().map(|b| format!("{b:02x}")).collect();
    let spaced: Vec<String> = seed.iter().map(|b| b.to_string()).collect();
    vec![
        base64(b32.as_bytes()),
        b32.to_lowercase(),
        hex.to_uppercase(),
        spaced.join(", "),
        b32,
        hex,
    ]
}

/// In a child: traces everything at `trace`, creates a device, and says which seed forms the
/// captured log holds (never the forms themselves).
async fn create_under_trace(account_id: &str) -> (Vec<bool>, String) {
    let capture = Capture::default();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(capture.clone())
        .init();
    let config = static_config(&access_key(account_id));
    let sdk = Sdk::from_config(
        &config,
        Options {
            endpoint_url: Some(server().url.clone()),
            ..fast()
        },
    )
    .expect("sdk");
    let device = sdk
        .create_virtual_mfa_device("traced", None, &[])
        .await
        .expect("created");
    let log = String::from_utf8(capture.0.lock().expect("capture").clone()).expect("utf-8");
    let found = seed_forms(device.seed.expose())
        .iter()
        .map(|form| log.contains(form.as_str()))
        .collect();
    // Proof that the SDK's wire logging was captured, without the body.
    let marker = if log.contains("read HTTP response body") {
        "wire-log-captured"
    } else {
        "wire-log-missing"
    };
    (found, marker.to_string())
}

#[test]
fn the_seed_never_reaches_a_trace_log() {
    // Control: with LOG_SENSITIVE_BODIES=true and no hardening, the SDK prints the body, so the
    // capture below is known to see the seed when it is there.
    let control = run_child(
        "child_trace_log",
        &[
            ("LOG_SENSITIVE_BODIES", "true"),
            ("RUST_LOG", "trace"),
            ("HARDEN", "no"),
            ("ACCOUNT", "300000000040"),
        ],
    );
    assert!(
        control.contains("seed-in-log: true"),
        "the control run did not capture the seed"
    );
    let hardened = run_child(
        "child_trace_log",
        &[
            ("LOG_SENSITIVE_BODIES", "true"),
            ("RUST_LOG", "trace"),
            ("HARDEN", "yes"),
            ("ACCOUNT", "300000000041"),
        ],
    );
    assert!(hardened.contains("wire-log-captured"), "{hardened}");
    assert!(hardened.contains("seed-in-log: false"), "{hardened}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "runs in a child process (the_seed_never_reaches_a_trace_log)"]
async fn child_trace_log() {
    in_child();
    if std::env::var("HARDEN").as_deref() == Ok("yes") {
        harden_process_env();
        assert!(std::env::var_os("LOG_SENSITIVE_BODIES").is_none());
    }
    let account_id = std::env::var("ACCOUNT").expect("account");
    let (found, marker) = create_under_trace(&account_id).await;
    println!("{marker}");
    println!("seed-in-log: {}", found.iter().any(|&f| f));
}
