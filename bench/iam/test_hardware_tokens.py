"""Tests for the strict IAM bench's hardware TOTP tokens (Thales/Gemalto serials such as
GAKT00000001): AWS holds their seeds by serial, and EnableMFADevice names the serial with two codes
off the token's display. The codes here are computed from the seed the bench lists.

Run: .bench/venv/bin/python -m pytest -q -p no:cacheprovider bench/iam/test_hardware_tokens.py
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from strict_iam import decode_seed, totp  # noqa: E402
from test_strict_iam import (  # noqa: E402,F401  (fixtures)
    ACCOUNT_A, Bench, bench, create, error_of, iam, pair, server,
)

TOKEN = "GAKT00000001"
INVALID_CODE = ("InvalidAuthenticationCode", 403)


def tokens(bench: Bench, account: str | None = None) -> dict[str, dict[str, Any]]:
    query = f"?account={account}" if account else ""
    return {t["serial"]: t for t in bench.get(f"/_bench/hardware-tokens{query}")["tokens"]}


def key_of(bench: Bench, serial: str) -> bytes:
    return decode_seed(tokens(bench)[serial]["seed"])


def assigned(iam: Any, user: str) -> list[str]:
    return [d["SerialNumber"] for d in iam.list_mfa_devices(UserName=user)["MFADevices"]]


def refused(call: Any) -> tuple[str, int]:
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        call()
    return error_of(exc)


def enable(iam: Any, user: str, serial: str, codes: dict[str, str]) -> Any:
    return iam.enable_mfa_device(UserName=user, SerialNumber=serial, **codes)


# ------------------------------------------------------------------------------------ the table


def test_default_tokens_are_listed_with_distinct_seeds(bench: Bench) -> None:
    table = tokens(bench)
    assert set(table) >= {f"GAKT0000000{i}" for i in range(1, 5)} | {"GAHT00000005"}
    seeds = [t["seed"] for t in table.values()]
    assert len(set(seeds)) == len(seeds)
    assert all(t["assigned_to"] is None for t in table.values())
    assert all(decode_seed(s) for s in seeds)


def test_added_token_can_be_enabled_and_is_per_account(bench: Bench) -> None:
    seed = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
    added = bench.post("/_bench/hardware-tokens", {"serial": "GAKT12345678", "seed": seed})
    assert added == {"serial": "GAKT12345678", "seed": seed, "assigned_to": None}
    assert "GAKT12345678" in tokens(bench)
    assert "GAKT12345678" not in tokens(bench, ACCOUNT_A)
    # Each account has its own copy of the default tokens.
    assert "GAKT00000001" in tokens(bench, ACCOUNT_A)
    iam = bench.client()
    iam.create_user(UserName="alice")
    enable(iam, "alice", "GAKT12345678", pair(decode_seed(seed), bench.step()))
    assert tokens(bench)["GAKT12345678"]["assigned_to"] == "alice"


def test_adding_a_token_validates_and_refuses_duplicates(bench: Bench) -> None:
    for body in (
        {"serial": "GAKT00000009"},
        {"serial": "GAKT00000009", "seed": "not base32!"},
        {"serial": "arn:aws:iam::123456789012:mfa/x", "seed": "JBSWY3DPEHPK3PXP"},
        {"seed": "JBSWY3DPEHPK3PXP"},
    ):
        status, _ = bench.request("POST", "/_bench/hardware-tokens", body)
        assert status == 400, body
    status, _ = bench.request(
        "POST", "/_bench/hardware-tokens", {"serial": TOKEN, "seed": "JBSWY3DPEHPK3PXP"}
    )
    assert status == 409


def test_reset_restores_the_default_table(bench: Bench) -> None:
    bench.post("/_bench/hardware-tokens", {"serial": "GAKT55555555", "seed": "JBSWY3DPEHPK3PXP"})
    bench.post("/_bench/reset")
    bench.align()
    assert "GAKT55555555" not in tokens(bench)
    assert TOKEN in tokens(bench)


# ------------------------------------------------------------------------------------ EnableMFADevice


def test_enable_with_consecutive_codes_then_a_later_code_signs_in(bench: Bench, iam: Any) -> None:
    iam.create_user(UserName="alice")
    key = key_of(bench, TOKEN)
    now = bench.step()
    enable(iam, "alice", TOKEN, pair(key, now))
    devices = iam.list_mfa_devices(UserName="alice")["MFADevices"]
    assert [d["SerialNumber"] for d in devices] == [TOKEN]
    assert devices[0]["EnableDate"] is not None
    assert tokens(bench)[TOKEN]["assigned_to"] == "alice"
    state = bench.get(f"/_bench/device?serial={TOKEN}")
    assert state["assigned"] is True and state["user"] == "alice" and state["drift_steps"] == 0
    # The codes of the enable are used up; the token's next code signs in.
    result = bench.post("/_bench/check-code", {"serial": TOKEN, "code": totp(key, now), "dry_run": True})
    assert result["accepted"] is False
    result = bench.post("/_bench/check-code", {"serial": TOKEN, "code": totp(key, now + 1)})
    assert result["accepted"] is True and result["step_offset"] == 1


@pytest.mark.parametrize("case", ["equal", "wrong", "stale", "swapped", "other_token"])
def test_bad_codes_are_refused_and_nothing_is_assigned(bench: Bench, iam: Any, case: str) -> None:
    iam.create_user(UserName="alice")
    key = key_of(bench, TOKEN)
    now = bench.step()
    codes = {
        "equal": {"AuthenticationCode1": totp(key, now), "AuthenticationCode2": totp(key, now)},
        "wrong": {"AuthenticationCode1": "000000", "AuthenticationCode2": "000001"},
        "stale": pair(key, now - 20),  # read off the display 10 minutes ago
        "swapped": {"AuthenticationCode1": totp(key, now), "AuthenticationCode2": totp(key, now - 1)},
        "other_token": pair(key_of(bench, "GAKT00000002"), now),
    }[case]
    assert refused(lambda: enable(iam, "alice", TOKEN, codes)) == INVALID_CODE
    assert assigned(iam, "alice") == []
    assert tokens(bench)[TOKEN]["assigned_to"] is None
    state = bench.get(f"/_bench/device?serial={TOKEN}")
    assert state["assigned"] is False and state["last_used_step"] is None
    # Nothing was used up: the right pair still enables.
    enable(iam, "alice", TOKEN, pair(key, now))


def test_the_same_pair_never_enables_twice(bench: Bench, iam: Any) -> None:
    iam.create_user(UserName="alice")
    iam.create_user(UserName="bob")
    codes = pair(key_of(bench, TOKEN), bench.step())
    enable(iam, "alice", TOKEN, codes)
    iam.deactivate_mfa_device(UserName="alice", SerialNumber=TOKEN)
    assert refused(lambda: enable(iam, "bob", TOKEN, codes)) == INVALID_CODE


def test_unknown_serial_is_no_such_entity(bench: Bench, iam: Any) -> None:
    iam.create_user(UserName="alice")
    key = key_of(bench, TOKEN)
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        enable(iam, "alice", "GAKT99999999", pair(key, bench.step()))
    assert error_of(exc) == ("NoSuchEntity", 404)
    assert exc.value.response["Error"]["Message"] == (
        "MFA device with serial number GAKT99999999 does not exist."
    )
    assert assigned(iam, "alice") == []


def test_unknown_user_is_no_such_entity(bench: Bench, iam: Any) -> None:
    code = refused(lambda: enable(iam, "nobody", TOKEN, pair(key_of(bench, TOKEN), bench.step())))
    assert code == ("NoSuchEntity", 404)


def test_token_of_another_user_is_already_in_use(bench: Bench, iam: Any) -> None:
    iam.create_user(UserName="alice")
    iam.create_user(UserName="bob")
    key = key_of(bench, TOKEN)
    now = bench.step()
    enable(iam, "alice", TOKEN, pair(key, now))
    for user in ("bob", "alice"):
        with pytest.raises(botocore.exceptions.ClientError) as exc:
            enable(iam, user, TOKEN, pair(key, now + 1))
        assert error_of(exc) == ("EntityAlreadyExists", 409)
        assert exc.value.response["Error"]["Message"] == "MFA Device is already in use."
    assert assigned(iam, "bob") == []
    assert tokens(bench)[TOKEN]["assigned_to"] == "alice"


def test_token_held_by_root_is_already_in_use(bench: Bench, iam: Any) -> None:
    iam.create_user(UserName="alice")
    root = bench.post("/_bench/root", {"add_hardware_device": ["token"]})
    serial = root["mfa_devices"][0]
    bench.post("/_bench/hardware-tokens", {"serial": serial, "seed": "JBSWY3DPEHPK3PXP"})
    codes = pair(decode_seed("JBSWY3DPEHPK3PXP"), bench.step())
    assert refused(lambda: enable(iam, "alice", serial, codes)) == ("EntityAlreadyExists", 409)


def test_a_ninth_device_is_over_the_limit(bench: Bench, iam: Any) -> None:
    iam.create_user(UserName="alice")
    now = bench.step()
    for i in range(8):
        serial, key = create(iam, f"v{i}")
        enable(iam, "alice", serial, pair(key, now))
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        enable(iam, "alice", TOKEN, pair(key_of(bench, TOKEN), now))
    assert error_of(exc) == ("LimitExceeded", 409)
    assert tokens(bench)[TOKEN]["assigned_to"] is None
    # A hardware token counts toward the limit like a virtual device.
    iam.create_user(UserName="bob")
    bench.post("/_bench/config", {"max_devices_per_user": 1})
    enable(iam, "bob", TOKEN, pair(key_of(bench, TOKEN), now))
    serial, key = create(iam, "bob-virtual")
    assert refused(lambda: enable(iam, "bob", serial, pair(key, now))) == ("LimitExceeded", 409)


def test_enable_late_window_applies_to_tokens(bench: Bench, iam: Any) -> None:
    iam.create_user(UserName="alice")
    key = key_of(bench, TOKEN)
    now = bench.step()
    assert refused(lambda: enable(iam, "alice", TOKEN, pair(key, now - 4))) == INVALID_CODE
    bench.post("/_bench/config", {"enable_late_window": 5})
    enable(iam, "alice", TOKEN, pair(key, now - 4))
    assert bench.get(f"/_bench/device?serial={TOKEN}")["drift_steps"] == -4


# ------------------------------------------------------------------------------------ resync, drift


def test_resync_after_drift(bench: Bench, iam: Any) -> None:
    iam.create_user(UserName="alice")
    key = key_of(bench, TOKEN)
    enable(iam, "alice", TOKEN, pair(key, bench.step()))
    # The token's clock has fallen 5 minutes (10 steps) behind: its codes no longer sign in.
    bench.offset += 90
    bench.post("/_bench/config", {"clock_offset_s": bench.offset})
    now = bench.step()
    behind = now - 10
    result = bench.post("/_bench/check-code", {"serial": TOKEN, "code": totp(key, behind), "dry_run": True})
    assert result["accepted"] is False
    iam.resync_mfa_device(UserName="alice", SerialNumber=TOKEN, **pair(key, behind))
    state = bench.get(f"/_bench/device?serial={TOKEN}")
    assert state["drift_steps"] == -10
    result = bench.post("/_bench/check-code", {"serial": TOKEN, "code": totp(key, behind + 1)})
    assert result["accepted"] is True and result["drift_steps"] == -10


def test_resync_refuses_wrong_codes_and_unassigned_tokens(bench: Bench, iam: Any) -> None:
    iam.create_user(UserName="alice")
    iam.create_user(UserName="bob")
    key = key_of(bench, TOKEN)
    now = bench.step()
    # Not assigned at all, then assigned to someone else.
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        iam.resync_mfa_device(UserName="alice", SerialNumber=TOKEN, **pair(key, now))
    assert error_of(exc) == ("NoSuchEntity", 404)
    assert "is not assigned to user alice" in exc.value.response["Error"]["Message"]
    enable(iam, "bob", TOKEN, pair(key, now))
    code = refused(lambda: iam.resync_mfa_device(UserName="alice", SerialNumber=TOKEN, **pair(key, now + 2)))
    assert code == ("NoSuchEntity", 404)
    code = refused(
        lambda: iam.resync_mfa_device(
            UserName="bob", SerialNumber=TOKEN, AuthenticationCode1="000000", AuthenticationCode2="000001"
        )
    )
    assert code == INVALID_CODE
    assert bench.get(f"/_bench/device?serial={TOKEN}")["drift_steps"] == 0


# ------------------------------------------------------------------------------------ deactivate


def test_deactivate_then_enable_to_another_user(bench: Bench, iam: Any) -> None:
    iam.create_user(UserName="alice")
    iam.create_user(UserName="bob")
    key = key_of(bench, TOKEN)
    now = bench.step()
    enable(iam, "alice", TOKEN, pair(key, now))
    iam.deactivate_mfa_device(UserName="alice", SerialNumber=TOKEN)
    assert assigned(iam, "alice") == []
    assert tokens(bench)[TOKEN]["assigned_to"] is None
    # The token stays known to the account: the next two codes enable it for bob.
    bench.offset += 60
    bench.post("/_bench/config", {"clock_offset_s": bench.offset})
    enable(iam, "bob", TOKEN, pair(key, bench.step()))
    assert assigned(iam, "bob") == [TOKEN]
    assert tokens(bench)[TOKEN]["assigned_to"] == "bob"
    # Deactivating it from a user who does not hold it is refused.
    code = refused(lambda: iam.deactivate_mfa_device(UserName="alice", SerialNumber=TOKEN))
    assert code == ("NoSuchEntity", 404)
    # bob holds an MFA device: he cannot be deleted until it is deactivated.
    assert refused(lambda: iam.delete_user(UserName="bob")) == ("DeleteConflict", 409)


# ------------------------------------------------------------------------------------ virtual-only calls


def test_list_virtual_mfa_devices_never_shows_tokens(bench: Bench, iam: Any) -> None:
    iam.create_user(UserName="alice")
    serial, vkey = create(iam, "virtual")
    now = bench.step()
    enable(iam, "alice", TOKEN, pair(key_of(bench, TOKEN), now))
    for status in ("Any", "Assigned", "Unassigned"):
        listed = iam.list_virtual_mfa_devices(AssignmentStatus=status)["VirtualMFADevices"]
        assert TOKEN not in [d["SerialNumber"] for d in listed]
    enable(iam, "alice", serial, pair(vkey, now))
    assert sorted(assigned(iam, "alice")) == sorted([TOKEN, serial])
    listed = iam.list_virtual_mfa_devices()["VirtualMFADevices"]
    assert [d["SerialNumber"] for d in listed] == [serial]


def test_virtual_only_calls_do_not_know_tokens(bench: Bench, iam: Any) -> None:
    iam.create_user(UserName="alice")
    enable(iam, "alice", TOKEN, pair(key_of(bench, TOKEN), bench.step()))
    message = f"VirtualMFADevice with serial number {TOKEN} doesn't exist."
    for call in (
        lambda: iam.list_mfa_device_tags(SerialNumber=TOKEN),
        lambda: iam.tag_mfa_device(SerialNumber=TOKEN, Tags=[{"Key": "k", "Value": "v"}]),
        lambda: iam.untag_mfa_device(SerialNumber=TOKEN, TagKeys=["k"]),
        lambda: iam.delete_virtual_mfa_device(SerialNumber=TOKEN),
    ):
        with pytest.raises(botocore.exceptions.ClientError) as exc:
            call()
        assert error_of(exc) == ("NoSuchEntity", 404)
        assert exc.value.response["Error"]["Message"] == message
    # Still assigned: none of them touched it.
    assert assigned(iam, "alice") == [TOKEN]


# ------------------------------------------------------------------------------------ call log


def test_calls_are_logged_by_action(bench: Bench, iam: Any) -> None:
    iam.create_user(UserName="alice")
    key = key_of(bench, TOKEN)
    now = bench.step()
    refused(lambda: enable(iam, "alice", TOKEN, pair(key, now - 20)))
    enable(iam, "alice", TOKEN, pair(key, now))
    iam.resync_mfa_device(UserName="alice", SerialNumber=TOKEN, **pair(key, now + 3))
    iam.deactivate_mfa_device(UserName="alice", SerialNumber=TOKEN)
    calls = bench.get("/_bench/calls?service=iam")["calls"]
    by_action = [(c["action"], c["status"]) for c in calls if c["action"] != "CreateUser"]
    assert by_action == [
        ("EnableMFADevice", 403),
        ("EnableMFADevice", 200),
        ("ResyncMFADevice", 200),
        ("DeactivateMFADevice", 200),
    ]
