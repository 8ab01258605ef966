//! The machine checks over hand-made facts: each state a user meets, and its line.

use super::*;
use crate::oath::Version;
use crate::token::Serial;

fn token(serial: u32, password: bool, credentials: Option<usize>) -> Token {
    Token {
        reader: format!("Yubico YubiKey OTP+FIDO+CCID 00 0{}", serial % 2),
        kind: Kind::YubiKey,
        serial: Some(Serial(serial)),
        firmware: Some(Version(5, 4, 3)),
        oath_version: Version(5, 4, 3),
        device_id: "id".into(),
        password,
        credentials,
        capacity: Some(32),
        model: None,
        fips: false,
        listed: None,
    }
}

fn holding(t: Token, password: PasswordCheck) -> ReaderFact {
    ReaderFact {
        name: t.reader.clone(),
        state: ReaderState::Token {
            token: Box::new(t),
            password,
        },
    }
}

fn reader(name: &str, state: ReaderState) -> ReaderFact {
    ReaderFact {
        name: name.into(),
        state,
    }
}

fn facts(readers: Vec<ReaderFact>) -> LocalFacts {
    LocalFacts {
        socket: Some(Socket {
            path: "/run/pcscd/pcscd.comm".into(),
            present: true,
        }),
        is_root: false,
        service: Service::Up,
        readers: Readers::Listed(readers),
        programs: Vec::new(),
        polkit: PolkitSetup::default(),
    }
}

fn down(e: TransportError, present: bool, is_root: bool) -> LocalFacts {
    LocalFacts {
        socket: Some(Socket {
            path: "/run/pcscd/pcscd.comm".into(),
            present,
        }),
        is_root,
        service: Service::Down(e),
        readers: Readers::NotListed,
        programs: Vec::new(),
        polkit: PolkitSetup::default(),
    }
}

fn by_id<'a>(checks: &'a [Check], id: &str) -> &'a Check {
    checks
        .iter()
        .find(|c| c.id == id)
        .unwrap_or_else(|| panic!("no check {id} in {checks:#?}"))
}

fn program(name: &str, pid: u32, command_line: &str) -> Program {
    Program {
        name: name.into(),
        pid,
        command_line: command_line.into(),
    }
}

#[test]
fn everything_fine_with_one_token() {
    let f = facts(vec![holding(
        token(12345678, false, Some(3)),
        PasswordCheck::None,
    )]);
    let checks = checks(&f);
    let ids: Vec<&str> = checks.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "pcscd",
            "readers",
            "tokens",
            "polkit",
            "token-in-use",
            "oath-password"
        ]
    );
    assert!(checks.iter().all(|c| c.status == Status::Ok), "{checks:#?}");
    assert!(checks.iter().all(|c| c.fix.is_empty()));
    let tokens = by_id(&checks, "tokens");
    assert_eq!(
        tokens.detail,
        "YubiKey 12345678 (firmware 5.4.3, 3 of 32 credentials)"
    );
    assert_eq!(tokens.data[0]["serial"], 12345678);
    assert!(by_id(&checks, "pcscd")
        .detail
        .contains("/run/pcscd/pcscd.comm"));
}

#[test]
fn pcscd_not_running() {
    let checks = checks(&down(TransportError::NoService, false, false));
    let pcscd = by_id(&checks, "pcscd");
    assert_eq!(pcscd.status, Status::Fail);
    assert!(pcscd.detail.contains("is not running"), "{}", pcscd.detail);
    assert!(
        pcscd.fix[0].contains("systemctl start pcscd.socket"),
        "{:?}",
        pcscd.fix
    );
    for id in [
        "readers",
        "tokens",
        "polkit",
        "token-in-use",
        "oath-password",
    ] {
        assert_eq!(by_id(&checks, id).status, Status::Skip, "{id}");
    }
}

#[test]
fn a_stale_socket_is_named_for_root_and_polkit_is_suspected_for_others() {
    let root = checks(&down(TransportError::NoService, true, true));
    assert!(by_id(&root, "pcscd")
        .detail
        .contains("left from a pcscd that stopped"));
    assert_eq!(by_id(&root, "polkit").status, Status::Skip);

    let user = checks(&down(TransportError::NoService, true, false));
    assert_eq!(by_id(&user, "pcscd").status, Status::Fail);
    let polkit = by_id(&user, "polkit");
    assert_eq!(polkit.status, Status::Warn);
    assert!(polkit
        .fix
        .iter()
        .any(|f| f.contains("49-ykmfa-pcscd.rules")));
}

#[test]
fn polkit_refusal_at_connect_or_at_the_card() {
    let refused = checks(&down(TransportError::PermissionDenied, true, false));
    assert_eq!(by_id(&refused, "pcscd").status, Status::Ok);
    let polkit = by_id(&refused, "polkit");
    assert_eq!(polkit.status, Status::Fail);
    assert!(polkit.detail.contains("access_pcsc"));
    assert!(polkit.fix.iter().any(|f| f.contains("usermod -aG ykmfa")));

    assert!(polkit.fix.iter().any(|f| f.contains(POLKIT_RULE)));

    let card = checks(&facts(vec![reader("R 00 00", ReaderState::Refused)]));
    let polkit = by_id(&card, "polkit");
    assert_eq!(polkit.status, Status::Fail);
    assert!(polkit.detail.contains("access_card") && polkit.detail.contains("R 00 00"));
}

#[test]
fn a_hung_pcscd_is_a_failure_not_a_hang() {
    let f = LocalFacts {
        service: Service::NoAnswer(Duration::from_secs(5)),
        ..down(TransportError::NoService, true, true)
    };
    let pcscd = pcscd(&f);
    assert_eq!(pcscd.status, Status::Fail);
    assert!(pcscd.detail.contains("did not answer within 5 s"));
    assert!(pcscd.fix[0].contains("restart"));
}

#[test]
fn no_reader_and_no_token_are_warnings_with_the_fix() {
    let none = checks(&facts(vec![]));
    assert_eq!(by_id(&none, "readers").status, Status::Warn);
    let tokens = by_id(&none, "tokens");
    assert_eq!(tokens.status, Status::Warn);
    assert!(tokens.detail.contains("no token"));
    assert!(tokens.fix[0].contains("insert your YubiKey"));
    assert_eq!(by_id(&none, "oath-password").status, Status::Skip);

    let empty = checks(&facts(vec![
        reader("R 00 00", ReaderState::Empty),
        reader("R 00 01", ReaderState::NoOath(None)),
        reader(
            "R 00 02",
            ReaderState::NoOath(Some("YubiKey Bio - Multi-protocol Edition".into())),
        ),
    ]));
    assert_eq!(by_id(&empty, "readers").status, Status::Ok);
    let tokens = by_id(&empty, "tokens");
    assert_eq!(tokens.status, Status::Warn);
    assert!(
        tokens.detail.contains("no OATH application in: R 00 01, R 00 02 (a YubiKey Bio - Multi-protocol Edition, which can't hold TOTP codes)"),
        "{}",
        tokens.detail
    );
}

#[test]
fn two_tokens_need_serial_and_are_listed() {
    let f = facts(vec![
        holding(token(11111111, false, Some(0)), PasswordCheck::None),
        holding(token(22222222, false, Some(5)), PasswordCheck::None),
    ]);
    let tokens = tokens(&f);
    assert_eq!(tokens.status, Status::Warn);
    assert!(
        tokens.detail.starts_with("2 tokens: YubiKey 11111111"),
        "{}",
        tokens.detail
    );
    assert!(tokens.detail.contains("YubiKey 22222222"));
    assert!(tokens.detail.contains("--serial"));
    assert_eq!(
        tokens.fix[0],
        "pass --serial to say which, e.g. --serial 11111111"
    );
    assert_eq!(tokens.data.as_array().map(Vec::len), Some(2));
}

#[test]
fn a_full_token_warns() {
    let f = facts(vec![holding(
        token(1, false, Some(32)),
        PasswordCheck::None,
    )]);
    let t = tokens(&f);
    assert_eq!(t.status, Status::Warn);
    assert!(t.detail.ends_with(": full"), "{}", t.detail);
    assert!(t.fix[0].contains("ykman oath accounts delete"));
}

#[test]
fn a_card_that_does_not_answer_is_named() {
    let f = facts(vec![
        holding(token(1, false, Some(0)), PasswordCheck::None),
        reader("Stuck 00 00", ReaderState::NoAnswer(Duration::from_secs(5))),
    ]);
    let t = tokens(&f);
    assert_eq!(t.status, Status::Warn);
    assert!(
        t.detail.contains("Stuck 00 00: no answer within 5 s"),
        "{}",
        t.detail
    );
}

#[test]
fn a_token_held_by_scdaemon_names_it_and_the_fix() {
    let mut f = facts(vec![reader("Yubico YubiKey 00 00", ReaderState::Held)]);
    f.programs = vec![
        program("bash", 10, "bash"),
        program("scdaemon", 4242, "scdaemon --multi-server"),
    ];
    let checks = checks(&f);
    let held = by_id(&checks, "token-in-use");
    assert_eq!(held.status, Status::Fail);
    assert!(
        held.detail.contains("Yubico YubiKey 00 00"),
        "{}",
        held.detail
    );
    assert!(
        held.detail.contains("GnuPG's scdaemon (pid 4242)"),
        "{}",
        held.detail
    );
    assert_eq!(held.fix.len(), 1);
    assert!(held.fix[0].starts_with("gpgconf --kill scdaemon"));
    assert_eq!(held.data["programs"][0]["pid"], 4242);
    // The token line says why it sees no token.
    let tokens = by_id(&checks, "tokens");
    assert!(
        tokens.detail.contains("not readable: Yubico YubiKey 00 00"),
        "{}",
        tokens.detail
    );
}

#[test]
fn a_held_token_without_a_known_holder_gets_the_usual_suspects() {
    let f = facts(vec![reader("R 00 00", ReaderState::Held)]);
    let held = in_use(&f);
    assert_eq!(held.status, Status::Fail);
    assert!(held.fix[0].contains("gpgconf --kill scdaemon"));
    assert!(held.fix[1].contains("Yubico Authenticator"));
}

#[test]
fn a_running_holder_that_holds_nothing_is_only_mentioned() {
    let mut f = facts(vec![holding(token(1, false, Some(0)), PasswordCheck::None)]);
    f.programs = vec![program("scdaemon", 7, "scdaemon")];
    let c = in_use(&f);
    assert_eq!(c.status, Status::Ok);
    assert!(c.detail.contains("scdaemon (pid 7)"));
}

#[test]
fn a_generic_process_name_needs_its_command_line() {
    let gnome = [program("authenticator", 1, "/usr/bin/authenticator")];
    assert!(holders_running(&gnome).is_empty());
    let yubico = [program(
        "authenticator",
        2,
        "/opt/yubico-authenticator/authenticator",
    )];
    let found = holders_running(&yubico);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0.what, "Yubico Authenticator");
}

#[test]
fn oath_password_states() {
    let state = |pw: PasswordCheck, password: bool| {
        oath_password(&facts(vec![holding(token(5, password, None), pw)]))
    };
    let open = state(PasswordCheck::None, false);
    assert_eq!(open.status, Status::Ok);
    assert_eq!(open.detail, "YubiKey 5: no password");

    let locked = state(PasswordCheck::Locked, true);
    assert_eq!(locked.status, Status::Warn);
    assert!(locked.detail.contains("locked"));
    assert!(locked.fix[0].contains("YKMFA_OATH_PASSWORD"));
    assert!(locked.fix[1].contains("ykman oath reset"));

    let unlocks = state(PasswordCheck::Unlocks, true);
    assert_eq!(unlocks.status, Status::Ok);
    assert!(unlocks.detail.contains("YKMFA_OATH_PASSWORD unlocks it"));

    let wrong = state(PasswordCheck::Wrong, true);
    assert_eq!(wrong.status, Status::Fail);
    assert!(wrong.detail.contains("does not unlock"));

    // The worst token decides.
    let two = oath_password(&facts(vec![
        holding(token(1, false, Some(0)), PasswordCheck::None),
        holding(token(2, true, None), PasswordCheck::Locked),
    ]));
    assert_eq!(two.status, Status::Warn);
    assert!(two
        .detail
        .starts_with("YubiKey 1: no password; YubiKey 2: locked"));
}

#[test]
fn polkit_fixes_follow_the_set_up() {
    let refused = |setup: PolkitSetup| {
        let f = LocalFacts {
            polkit: setup,
            ..down(TransportError::PermissionDenied, true, false)
        };
        polkit(&f).fix
    };
    let nothing = refused(PolkitSetup::default());
    assert!(nothing[1].starts_with("allow a group: sudo groupadd --system ykmfa"));
    assert!(nothing[2].contains("sudo install -m 0644 udev/49-ykmfa-pcscd.rules"));

    let group_only = refused(PolkitSetup {
        group_exists: true,
        ..PolkitSetup::default()
    });
    assert!(group_only[1].starts_with("join the group: sudo usermod -aG ykmfa"));
    assert_eq!(group_only.len(), 3, "and install the rule: {group_only:?}");

    let not_in_session = refused(PolkitSetup {
        rule_installed: true,
        group_exists: true,
        member: true,
        in_session: false,
    });
    assert_eq!(not_in_session.len(), 2);
    assert!(not_in_session[1].contains("log in again (or: newgrp ykmfa)"));

    let rule_missing = refused(PolkitSetup {
        rule_installed: false,
        group_exists: true,
        member: true,
        in_session: true,
    });
    assert_eq!(rule_missing.len(), 2);
    assert!(rule_missing[1].starts_with("install ykmfa's rule"));

    let all_done = refused(PolkitSetup {
        rule_installed: true,
        group_exists: true,
        member: true,
        in_session: true,
    });
    assert!(all_done[1].contains("journalctl -u polkit"));
}
