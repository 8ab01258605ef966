"""Tests for strict_iam.py: the server runs as a subprocess on a free loopback port, driven by boto3
(and once by the AWS CLI v1).

Time: each test first moves the server's clock (bench clock offset) so that it sits 10 s into a
30 s step, and computes codes with that same clock; so no test races a step boundary.

Run: /tmp/iam-venv/bin/python -m pytest -q bench/iam
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import botocore.parsers
import pytest
from botocore.config import Config

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import strict_iam  # noqa: E402
from strict_iam import access_key_for_account, account_from_access_key, decode_seed, totp  # noqa: E402

ACCOUNT_A = "111111111111"
ACCOUNT_B = "222222222222"
DEFAULT = "123456789012"
SEEDS_SEEN: list[str] = []


# ------------------------------------------------------------------------------------ fixtures


class Bench:
    def __init__(self, url: str, log_path: Path) -> None:
        self.url = url
        self.log_path = log_path
        self.offset = 0.0
        self._clients: dict[Any, Any] = {}

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())

    def get(self, path: str) -> Any:
        status, data = self.request("GET", path)
        assert status == 200, data
        return data

    def post(self, path: str, body: Any = None) -> Any:
        status, data = self.request("POST", path, body if body is not None else {})
        assert status == 200, data
        return data

    def align(self, into_step: float = 10.0) -> None:
        """Move the server clock so it is `into_step` seconds into a step right now."""
        off = (into_step - time.time() % 30) % 30
        self.post("/_bench/config", {"clock_offset_s": off})
        self.offset = off

    def now(self) -> float:
        return time.time() + self.offset

    def step(self) -> int:
        return int(self.now() // 30)

    def client(self, service: str = "iam", account: str | None = None, **config: Any) -> Any:
        key = (service, account, tuple(sorted(config.items())))
        if key not in self._clients:
            cfg = Config(retries={"total_max_attempts": 1, "mode": "standard"}, **config)
            self._clients[key] = boto3.client(
                service,
                endpoint_url=self.url,
                region_name="us-east-1",
                aws_access_key_id=access_key_for_account(account) if account else "testing",
                aws_secret_access_key="bench",
                config=cfg,
            )
        return self._clients[key]


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("strict-iam")
    port_file = tmp / "port"
    log_path = tmp / "server.log"
    env = dict(os.environ)
    env.pop("MOTO_ACCOUNT_ID", None)
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, str(HERE / "strict_iam.py"), "--host", "127.0.0.1", "--port", "0",
             "--port-file", str(port_file), "-v"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        deadline = time.time() + 60
        while not port_file.exists():
            if proc.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"strict_iam did not start: {log_path.read_text()}")
            time.sleep(0.1)
        port = int(port_file.read_text())
        yield Bench(f"http://127.0.0.1:{port}", log_path)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture
def bench(server: Bench) -> Bench:
    server.post("/_bench/reset")
    server.align()
    return server


@pytest.fixture
def iam(bench: Bench) -> Any:
    return bench.client()


def create(iam: Any, name: str, **kw: Any) -> tuple[str, bytes]:
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName=name, **kw)["VirtualMFADevice"]
    seed = device["Base32StringSeed"].decode()
    SEEDS_SEEN.append(seed)
    return device["SerialNumber"], decode_seed(seed)


def pair(key: bytes, second: int) -> dict[str, str]:
    """Codes of steps (second-1, second)."""
    return {"AuthenticationCode1": totp(key, second - 1), "AuthenticationCode2": totp(key, second)}


def error_of(excinfo: Any) -> tuple[str, int]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def user_with_device(bench: Bench, iam: Any, user: str = "alice", name: str = "dev") -> tuple[str, bytes]:
    iam.create_user(UserName=user)
    serial, key = create(iam, name)
    iam.enable_mfa_device(UserName=user, SerialNumber=serial, **pair(key, bench.step()))
    return serial, key


# ------------------------------------------------------------------------------------ pure helpers


def test_totp_matches_rfc6238_sha1_vectors() -> None:
    key = b"12345678901234567890"
    assert totp(key, 59 // 30, 8) == "94287082"
    assert totp(key, 1111111109 // 30, 8) == "07081804"
    assert totp(key, 2000000000 // 30, 8) == "69279037"
    assert totp(key, 59 // 30) == "287082"


def test_access_key_ids_encode_accounts_like_aws_and_moto() -> None:
    from moto.iam.utils import generate_access_key_id_from_account_id

    for account in (ACCOUNT_A, ACCOUNT_B, DEFAULT, "000000000000", "999999999999", "000000000001"):
        assert account_from_access_key(access_key_for_account(account)) == account
        assert account_from_access_key(generate_access_key_id_from_account_id(account, "AKIA")) == account
    # The usual placeholders select the default account.
    assert account_from_access_key("AKIAIOSFODNN7EXAMPLE") is None
    assert account_from_access_key("testing") is None


# ------------------------------------------------------------------------------------ EnableMFADevice


def test_enable_with_previous_and_current_step_passes(bench: Bench, iam: Any) -> None:
    iam.create_user(UserName="alice")
    serial, key = create(iam, "alice-key")
    iam.enable_mfa_device(UserName="alice", SerialNumber=serial, **pair(key, bench.step()))
    devices = iam.list_mfa_devices(UserName="alice")["MFADevices"]
    assert [d["SerialNumber"] for d in devices] == [serial]


def test_enable_with_real_time_pair_passes(bench: Bench, iam: Any) -> None:
    """Code at step T, wait for T+1, code at T+1, submit at once (the console way)."""
    iam.create_user(UserName="alice")
    serial, key = create(iam, "alice-key")
    bench.align(28.5)
    first_step = bench.step()
    code1 = totp(key, first_step)
    while bench.step() == first_step:
        time.sleep(0.1)
    code2 = totp(key, first_step + 1)
    iam.enable_mfa_device(
        UserName="alice", SerialNumber=serial, AuthenticationCode1=code1, AuthenticationCode2=code2
    )


@pytest.mark.parametrize(
    "offset, accepted",
    [(-2, False), (-1, True), (0, True), (1, True), (2, False)],
)
def test_enable_window_is_plus_minus_one_step(bench: Bench, iam: Any, offset: int, accepted: bool) -> None:
    iam.create_user(UserName="alice")
    serial, key = create(iam, "k")
    call = lambda: iam.enable_mfa_device(  # noqa: E731
        UserName="alice", SerialNumber=serial, **pair(key, bench.step() + offset)
    )
    if accepted:
        call()
    else:
        with pytest.raises(botocore.exceptions.ClientError) as exc:
            call()
        assert error_of(exc) == ("InvalidAuthenticationCode", 403)


def test_future_step_refused_when_future_window_is_zero(bench: Bench, iam: Any) -> None:
    bench.post("/_bench/config", {"enable_future": 0})
    iam.create_user(UserName="alice")
    serial, key = create(iam, "k")
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        iam.enable_mfa_device(UserName="alice", SerialNumber=serial, **pair(key, bench.step() + 1))
    assert error_of(exc) == ("InvalidAuthenticationCode", 403)
    iam.enable_mfa_device(UserName="alice", SerialNumber=serial, **pair(key, bench.step()))


def test_wrong_codes_are_invalid_authentication_code(bench: Bench, iam: Any) -> None:
    iam.create_user(UserName="alice")
    serial, key = create(iam, "k")
    now = bench.step()
    other_key = decode_seed("JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    bad_pairs = [
        ("000000", "000000"),
        (totp(key, now), totp(key, now - 1)),  # swapped
        (totp(key, now), totp(key, now)),  # same step twice
        (totp(key, now - 2), totp(key, now)),  # not consecutive
        (totp(other_key, now - 1), totp(other_key, now)),  # another seed
    ]
    for code1, code2 in bad_pairs:
        if (code1, code2) == (totp(key, now - 1), totp(key, now)):
            continue  # astronomically unlikely collision
        with pytest.raises(botocore.exceptions.ClientError) as exc:
            iam.enable_mfa_device(
                UserName="alice", SerialNumber=serial, AuthenticationCode1=code1, AuthenticationCode2=code2
            )
        assert error_of(exc) == ("InvalidAuthenticationCode", 403)
        assert "Authentication code" in exc.value.response["Error"]["Message"]
    assert iam.list_mfa_devices(UserName="alice")["MFADevices"] == []
    assert bench.get(f"/_bench/device?serial={serial}")["assigned"] is False


def test_code_pair_cannot_be_used_twice(bench: Bench, iam: Any) -> None:
    iam.create_user(UserName="alice")
    serial, key = create(iam, "k")
    codes = pair(key, bench.step())
    iam.enable_mfa_device(UserName="alice", SerialNumber=serial, **codes)
    iam.deactivate_mfa_device(UserName="alice", SerialNumber=serial)
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        iam.enable_mfa_device(UserName="alice", SerialNumber=serial, **codes)
    assert error_of(exc) == ("InvalidAuthenticationCode", 403)
    # Codes are one-time and time moves forward: the pair is good again only at the next steps.
    bench.post("/_bench/config", {"clock_offset_s": bench.offset + 60})
    bench.offset += 60
    iam.enable_mfa_device(UserName="alice", SerialNumber=serial, **pair(key, bench.step()))


def test_enable_assigned_device_is_entity_already_exists(bench: Bench, iam: Any) -> None:
    serial, key = user_with_device(bench, iam)
    iam.create_user(UserName="bob")
    for user in ("alice", "bob"):
        with pytest.raises(botocore.exceptions.ClientError) as exc:
            iam.enable_mfa_device(UserName=user, SerialNumber=serial, **pair(key, bench.step() + 1))
        assert error_of(exc) == ("EntityAlreadyExists", 409)


def test_ninth_device_is_limit_exceeded(bench: Bench, iam: Any) -> None:
    iam.create_user(UserName="alice")
    for i in range(8):
        serial, key = create(iam, f"alice-{i}")
        iam.enable_mfa_device(UserName="alice", SerialNumber=serial, **pair(key, bench.step()))
    serial, key = create(iam, "alice-8")
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        iam.enable_mfa_device(UserName="alice", SerialNumber=serial, **pair(key, bench.step()))
    assert error_of(exc) == ("LimitExceeded", 409)
    assert len(iam.list_mfa_devices(UserName="alice")["MFADevices"]) == 8


def test_unknown_user_or_device_is_no_such_entity(bench: Bench, iam: Any) -> None:
    iam.create_user(UserName="alice")
    serial, key = create(iam, "k")
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        iam.enable_mfa_device(UserName="nobody", SerialNumber=serial, **pair(key, bench.step()))
    assert error_of(exc) == ("NoSuchEntity", 404)
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        iam.enable_mfa_device(
            UserName="alice", SerialNumber=f"arn:aws:iam::{DEFAULT}:mfa/missing", **pair(key, bench.step())
        )
    assert error_of(exc) == ("NoSuchEntity", 404)


def test_malformed_code_is_validation_error(bench: Bench, iam: Any) -> None:
    iam.create_user(UserName="alice")
    serial, _ = create(iam, "k")
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        iam.enable_mfa_device(
            UserName="alice", SerialNumber=serial, AuthenticationCode1="12345a", AuthenticationCode2="123456"
        )
    assert error_of(exc)[0] == "ValidationError"


# ------------------------------------------------------------------------------------ sign-in codes


def test_check_code_single_and_pair(bench: Bench, iam: Any) -> None:
    serial, key = user_with_device(bench, iam)
    now = bench.step()

    def check(**body: Any) -> Any:
        return bench.post("/_bench/check-code", {"serial": serial, **body})

    # The enable pair used step `now`: a sign-in needs a later step.
    assert check(code=totp(key, now))["reason"] == "reused"
    assert check(code="000000" if totp(key, now + 1) != "000000" else "111111")["reason"] == "wrong_code"
    assert check(code=totp(key, now + 1), dry_run=True)["accepted"] is True
    result = check(code=totp(key, now + 1))
    assert result["accepted"] is True and result["step_offset"] == 1
    assert check(code=totp(key, now + 1))["reason"] == "reused"
    assert check(code=totp(key, now + 2))["reason"] == "wrong_code"  # beyond the +/-1 window
    # A pair check uses the EnableMFADevice rules.
    assert check(code1=totp(key, now), code2=totp(key, now + 1))["reason"] == "reused"
    status, data = bench.request("POST", "/_bench/check-code", {"serial": serial + "x", "code": "123456"})
    assert status == 404


def test_check_code_pair_on_unassigned_device(bench: Bench, iam: Any) -> None:
    serial, key = create(iam, "k")
    result = bench.post(
        "/_bench/check-code",
        {"serial": serial, "code1": totp(key, bench.step() - 1), "code2": totp(key, bench.step()), "dry_run": True},
    )
    assert result["accepted"] is True and result["assigned"] is False and result["step_offset"] == 0


# ------------------------------------------------------------------------------------ ResyncMFADevice


def test_resync_five_minutes_behind_records_drift(bench: Bench, iam: Any) -> None:
    serial, key = user_with_device(bench, iam)
    now = bench.step()
    # The token's clock is 10 steps (5 minutes) behind: its two current codes.
    iam.resync_mfa_device(UserName="alice", SerialNumber=serial, **pair(key, now - 10))
    state = bench.get(f"/_bench/device?serial={serial}")
    assert state["drift_steps"] == -10
    # The token's next code is accepted at that drift; the un-drifted code is not.
    assert bench.post("/_bench/check-code", {"serial": serial, "code": totp(key, now + 1), "dry_run": True})[
        "reason"
    ] == "wrong_code"
    result = bench.post("/_bench/check-code", {"serial": serial, "code": totp(key, now - 9)})
    assert result["accepted"] is True and result["drift_steps"] == -10


def test_resync_ahead_and_enable_follows_drift(bench: Bench, iam: Any) -> None:
    serial, key = user_with_device(bench, iam)
    now = bench.step()
    iam.resync_mfa_device(UserName="alice", SerialNumber=serial, **pair(key, now + 10))
    assert bench.get(f"/_bench/device?serial={serial}")["drift_steps"] == 10
    # Re-enabling after a deactivate checks codes relative to the drift too.
    iam.deactivate_mfa_device(UserName="alice", SerialNumber=serial)
    with pytest.raises(botocore.exceptions.ClientError):
        iam.enable_mfa_device(UserName="alice", SerialNumber=serial, **pair(key, now + 1))
    # Two steps later the token shows two codes it has not used yet.
    bench.offset += 60
    bench.post("/_bench/config", {"clock_offset_s": bench.offset})
    iam.enable_mfa_device(UserName="alice", SerialNumber=serial, **pair(key, bench.step() + 10))


def test_resync_rejects_wrong_far_or_reused_codes(bench: Bench, iam: Any) -> None:
    iam.create_user(UserName="alice")
    serial, key = create(iam, "k")
    enable_codes = pair(key, bench.step())
    iam.enable_mfa_device(UserName="alice", SerialNumber=serial, **enable_codes)
    now = bench.step()
    for codes in (
        {"AuthenticationCode1": "000000", "AuthenticationCode2": "000000"},
        pair(key, now - 60),  # 30 minutes off: outside the +/-20 step search
        enable_codes,  # already used
    ):
        with pytest.raises(botocore.exceptions.ClientError) as exc:
            iam.resync_mfa_device(UserName="alice", SerialNumber=serial, **codes)
        assert error_of(exc) == ("InvalidAuthenticationCode", 403)
    iam.resync_mfa_device(UserName="alice", SerialNumber=serial, **pair(key, now - 20))


def test_resync_unassigned_device_is_no_such_entity(bench: Bench, iam: Any) -> None:
    iam.create_user(UserName="alice")
    serial, key = create(iam, "k")
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        iam.resync_mfa_device(UserName="alice", SerialNumber=serial, **pair(key, bench.step()))
    assert error_of(exc) == ("NoSuchEntity", 404)


def test_enable_late_is_out_of_sync_only_when_allowed(bench: Bench, iam: Any) -> None:
    iam.create_user(UserName="alice")
    serial, key = create(iam, "late")
    now = bench.step()
    # A host clock 90 s behind: its pair ends three steps ago. Strict by default.
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        iam.enable_mfa_device(UserName="alice", SerialNumber=serial, **pair(key, now - 3))
    assert error_of(exc) == ("InvalidAuthenticationCode", 403)
    bench.post("/_bench/config", {"enable_late_window": 4})
    # Too late even so; then late enough: enabled, out of sync by -3 steps.
    with pytest.raises(botocore.exceptions.ClientError):
        iam.enable_mfa_device(UserName="alice", SerialNumber=serial, **pair(key, now - 6))
    iam.enable_mfa_device(UserName="alice", SerialNumber=serial, **pair(key, now - 3))
    assert bench.get(f"/_bench/device?serial={serial}")["drift_steps"] == -3
    # True-time codes are refused now; the late clock's next code passes.
    check = lambda code, **kw: bench.post("/_bench/check-code", {"serial": serial, "code": code, **kw})
    assert check(totp(key, now + 1), dry_run=True)["reason"] == "wrong_code"
    assert check(totp(key, now - 2), dry_run=True)["accepted"] is True
    # A resync at true time puts it back in step.
    iam.resync_mfa_device(UserName="alice", SerialNumber=serial, **pair(key, now))
    assert bench.get(f"/_bench/device?serial={serial}")["drift_steps"] == 0
    assert check(totp(key, now + 1))["accepted"] is True


def test_enable_in_the_window_keeps_drift_zero_with_a_late_window(bench: Bench, iam: Any) -> None:
    bench.post("/_bench/config", {"enable_late_window": 4})
    iam.create_user(UserName="alice")
    serial, key = create(iam, "k")
    iam.enable_mfa_device(UserName="alice", SerialNumber=serial, **pair(key, bench.step() - 1))
    assert bench.get(f"/_bench/device?serial={serial}")["drift_steps"] == 0


# ------------------------------------------------------------------------------------ create / delete / list / tags


def test_delete_assigned_device_is_delete_conflict(bench: Bench, iam: Any) -> None:
    serial, _ = user_with_device(bench, iam)
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert error_of(exc) == ("DeleteConflict", 409)
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        iam.delete_user(UserName="alice")
    assert error_of(exc) == ("DeleteConflict", 409)
    iam.deactivate_mfa_device(UserName="alice", SerialNumber=serial)
    assert iam.list_mfa_devices(UserName="alice")["MFADevices"] == []
    assert iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"] == [
        {"SerialNumber": serial}
    ]
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert error_of(exc) == ("NoSuchEntity", 404)
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        iam.deactivate_mfa_device(UserName="alice", SerialNumber=serial)
    assert error_of(exc) == ("NoSuchEntity", 404)
    iam.delete_user(UserName="alice")


def test_duplicate_name_is_entity_already_exists(bench: Bench, iam: Any) -> None:
    create(iam, "dup")
    for path in ("/", "/team/"):
        with pytest.raises(botocore.exceptions.ClientError) as exc:
            iam.create_virtual_mfa_device(VirtualMFADeviceName="dup", Path=path)
        assert error_of(exc) == ("EntityAlreadyExists", 409)


def test_device_name_rules(bench: Bench, iam: Any) -> None:
    serial, _ = create(iam, "a" * 226)
    assert len(serial) == 256
    create(iam, "Ok_+=,.@-9")
    for bad in ("has space", "slash/no", "naïve", "a" * 227, "star*"):
        with pytest.raises(botocore.exceptions.ClientError) as exc:
            iam.create_virtual_mfa_device(VirtualMFADeviceName=bad)
        assert error_of(exc) == ("ValidationError", 400), bad


def test_tags_round_trip(bench: Bench, iam: Any) -> None:
    serial, _ = create(iam, "k", Tags=[{"Key": "owner", "Value": "alice"}, {"Key": "token", "Value": "12345678"}])
    tags = lambda: iam.list_mfa_device_tags(SerialNumber=serial)["Tags"]  # noqa: E731
    assert tags() == [{"Key": "owner", "Value": "alice"}, {"Key": "token", "Value": "12345678"}]
    iam.tag_mfa_device(SerialNumber=serial, Tags=[{"Key": "token", "Value": "999"}, {"Key": "kind", "Value": "yubikey"}])
    assert tags() == [
        {"Key": "owner", "Value": "alice"},
        {"Key": "token", "Value": "999"},
        {"Key": "kind", "Value": "yubikey"},
    ]
    iam.untag_mfa_device(SerialNumber=serial, TagKeys=["owner", "absent"])
    assert tags() == [{"Key": "token", "Value": "999"}, {"Key": "kind", "Value": "yubikey"}]
    page = iam.list_mfa_device_tags(SerialNumber=serial, MaxItems=1)
    assert page["IsTruncated"] is True and len(page["Tags"]) == 1
    rest = iam.list_mfa_device_tags(SerialNumber=serial, Marker=page["Marker"])
    assert rest["Tags"] == [{"Key": "kind", "Value": "yubikey"}] and rest["IsTruncated"] is False
    listed = iam.list_virtual_mfa_devices()["VirtualMFADevices"]
    assert listed == [{"SerialNumber": serial}]  # no tags, no seed, no QR code
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        iam.tag_mfa_device(SerialNumber=serial, Tags=[{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}])
    assert error_of(exc) == ("InvalidInput", 400)
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        iam.list_mfa_device_tags(SerialNumber=f"arn:aws:iam::{DEFAULT}:mfa/none")
    assert error_of(exc) == ("NoSuchEntity", 404)
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        iam.tag_mfa_device(SerialNumber=serial, Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(49)])
    assert error_of(exc) == ("LimitExceeded", 409)
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    create(iam, "k")
    assert tags() == []  # tags die with the device


def test_list_virtual_devices_status_and_pagination(bench: Bench, iam: Any) -> None:
    iam.create_user(UserName="alice")
    serials = []
    for i in range(5):
        serial, key = create(iam, f"d{i}")
        serials.append(serial)
        if i in (1, 3):
            iam.enable_mfa_device(UserName="alice", SerialNumber=serial, **pair(key, bench.step()))
    assigned = iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"]
    assert [d["SerialNumber"] for d in assigned] == [serials[1], serials[3]]
    assert all(d["User"]["UserName"] == "alice" and "EnableDate" in d for d in assigned)
    unassigned = iam.list_virtual_mfa_devices(AssignmentStatus="Unassigned")["VirtualMFADevices"]
    assert [d["SerialNumber"] for d in unassigned] == [serials[0], serials[2], serials[4]]
    assert all("User" not in d for d in unassigned)
    pages = list(iam.get_paginator("list_virtual_mfa_devices").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(p["VirtualMFADevices"]) for p in pages] == [2, 2, 1]
    assert [d["SerialNumber"] for p in pages for d in p["VirtualMFADevices"]] == serials
    assert all("Base32StringSeed" not in d for p in pages for d in p["VirtualMFADevices"])
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        iam.list_virtual_mfa_devices(Marker="not-a-marker")
    assert error_of(exc)[0] == "InvalidInput"


def test_other_moto_iam_behaviour_still_works(bench: Bench, iam: Any) -> None:
    iam.create_user(UserName="alice")
    iam.create_access_key(UserName="alice")
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["alice"]
    iam.create_login_profile(UserName="alice", Password="Correct-Horse-9")
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        iam.get_mfa_device(SerialNumber=f"arn:aws:iam::{DEFAULT}:mfa/x")
    assert error_of(exc) == ("NoSuchEntity", 404)


# ------------------------------------------------------------------------------------ root / account posture


def test_account_posture_and_root(bench: Bench, iam: Any) -> None:
    summary = lambda: iam.get_account_summary()["SummaryMap"]  # noqa: E731
    assert summary()["AccountMFAEnabled"] == 0 and summary()["AccountAccessKeysPresent"] == 0
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        iam.get_account_password_policy()
    assert error_of(exc) == ("NoSuchEntity", 404)

    state = bench.post("/_bench/root", {"account": DEFAULT, "mfa_enabled": True, "access_keys_present": True})
    assert state["mfa_enabled"] and state["access_keys_present"]
    assert summary()["AccountMFAEnabled"] == 1 and summary()["AccountAccessKeysPresent"] == 1
    bench.post("/_bench/root", {"mfa_enabled": False, "access_keys_present": False})
    assert summary()["AccountMFAEnabled"] == 0 and summary()["AccountAccessKeysPresent"] == 0
    bench.post("/_bench/root", {"mfa_enabled": None, "access_keys_present": None})  # derived again

    # Console-style root enrollment: a device assigned to root with two consecutive codes.
    serial, key = create(iam, "root-account-mfa-device")
    now = bench.step()
    status, data = bench.request(
        "POST", "/_bench/root", {"assign_device": serial, "code1": "000000", "code2": "000000"}
    )
    assert status == 403
    state = bench.post(
        "/_bench/root", {"assign_device": serial, "code1": totp(key, now - 1), "code2": totp(key, now)}
    )
    assert state["mfa_devices"] == [serial] and state["mfa_enabled"] is True
    assert summary()["AccountMFAEnabled"] == 1
    listed = iam.list_virtual_mfa_devices(AssignmentStatus="Assigned")["VirtualMFADevices"]
    assert listed[0]["User"]["Arn"] == f"arn:aws:iam::{DEFAULT}:root"
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert error_of(exc) == ("DeleteConflict", 409)
    # Root keys: GetCallerIdentity says root, the summary says keys are present.
    root_key = "AKIA" + access_key_for_account(DEFAULT)[4:16] + "ROOT"
    bench.post("/_bench/root", {"add_access_key_id": root_key})
    assert summary()["AccountAccessKeysPresent"] == 1
    sts = boto3.client(
        "sts", endpoint_url=bench.url, region_name="us-east-1",
        aws_access_key_id=root_key, aws_secret_access_key="x",
    )
    assert sts.get_caller_identity()["Arn"] == f"arn:aws:iam::{DEFAULT}:root"
    # An AssumeRoot-style session deactivates root's device without a user name.
    iam.deactivate_mfa_device(SerialNumber=serial)
    assert summary()["AccountMFAEnabled"] == 0
    iam.delete_virtual_mfa_device(SerialNumber=serial)


# ------------------------------------------------------------------------------------ faults


def test_error_faults_fire_and_clear(bench: Bench, iam: Any) -> None:
    bench.post("/_bench/faults", {"action": "DeleteVirtualMFADevice", "code": "AccessDenied", "status": 403})
    serial, _ = create(iam, "k")
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert error_of(exc) == ("AccessDenied", 403)
    assert "not authorized" in exc.value.response["Error"]["Message"]
    assert bench.get("/_bench/faults")["faults"] == []  # count 1: used up
    iam.delete_virtual_mfa_device(SerialNumber=serial)  # the fault did not run the operation

    for code, status in (("Throttling", 400), ("ServiceFailure", 500), ("EntityTemporarilyUnmodifiable", 409),
                         ("NoSuchEntity", 404)):
        bench.post("/_bench/faults", {"action": "ListVirtualMFADevices", "code": code, "count": "always"})
        for _ in range(2):
            with pytest.raises(botocore.exceptions.ClientError) as exc:
                iam.list_virtual_mfa_devices()
            assert error_of(exc) == (code, status)
        assert bench.post("/_bench/faults/clear", {"action": "ListVirtualMFADevices"})["cleared"] == 1
        iam.list_virtual_mfa_devices()


def test_error_after_the_operation_and_skip(bench: Bench, iam: Any) -> None:
    # The create happens but the caller sees a failure: a retry then meets EntityAlreadyExists.
    bench.post("/_bench/faults", {"action": "CreateVirtualMFADevice", "code": "ServiceFailure", "when": "after"})
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        iam.create_virtual_mfa_device(VirtualMFADeviceName="k")
    assert error_of(exc) == ("ServiceFailure", 500)
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        iam.create_virtual_mfa_device(VirtualMFADeviceName="k")
    assert error_of(exc) == ("EntityAlreadyExists", 409)
    # skip: the third call fails, the first two pass.
    bench.post("/_bench/faults", {"action": "CreateVirtualMFADevice", "code": "LimitExceeded", "skip": 2})
    create(iam, "a")
    create(iam, "b")
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        create(iam, "c")
    assert error_of(exc) == ("LimitExceeded", 409)
    create(iam, "c")


def test_delay_fault_times_out_the_client(bench: Bench) -> None:
    slow = bench.client(read_timeout=0.5, connect_timeout=1)
    bench.post("/_bench/faults", {"action": "ListUsers", "kind": "delay", "delay_ms": 1500})
    started = time.monotonic()
    with pytest.raises(botocore.exceptions.ReadTimeoutError):
        slow.list_users()
    assert time.monotonic() - started < 1.4
    time.sleep(1.2)  # let the delayed request finish server-side
    slow.list_users()


def test_malformed_and_missing_field_and_bad_seed(bench: Bench, iam: Any) -> None:
    bench.post("/_bench/faults", {"action": "CreateVirtualMFADevice", "kind": "malformed"})
    with pytest.raises(botocore.parsers.ResponseParserError):
        iam.create_virtual_mfa_device(VirtualMFADeviceName="m")

    bench.post("/_bench/faults", {"action": "CreateVirtualMFADevice", "kind": "drop_field", "field": "SerialNumber"})
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="d")["VirtualMFADevice"]
    assert "SerialNumber" not in device and "Base32StringSeed" in device

    bench.post("/_bench/faults", {"action": "CreateVirtualMFADevice", "kind": "bad_seed"})
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="s")["VirtualMFADevice"]
    with pytest.raises(Exception):
        decode_seed(device["Base32StringSeed"])

    bench.post("/_bench/faults", {"action": "CreateVirtualMFADevice", "kind": "empty"})
    with pytest.raises(botocore.parsers.ResponseParserError):
        iam.create_virtual_mfa_device(VirtualMFADeviceName="e")

    status, data = bench.request("POST", "/_bench/faults", {"action": "X", "kind": "nonsense"})
    assert status == 400


# ------------------------------------------------------------------------------------ call log


def test_call_log_counts_calls_without_bodies(bench: Bench, iam: Any) -> None:
    bench.post("/_bench/calls/reset")
    iam.create_user(UserName="alice")
    serial, key = create(iam, "k")
    codes = pair(key, bench.step())
    iam.enable_mfa_device(UserName="alice", SerialNumber=serial, **codes)
    with pytest.raises(botocore.exceptions.ClientError):
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    log = bench.get("/_bench/calls")
    assert [(c["action"], c["status"]) for c in log["calls"]] == [
        ("CreateUser", 200),
        ("CreateVirtualMFADevice", 200),
        ("EnableMFADevice", 200),
        ("DeleteVirtualMFADevice", 409),
    ]
    assert all(c["service"] == "iam" and c["account"] == DEFAULT for c in log["calls"])
    assert bench.get("/_bench/calls?action=EnableMFADevice")["count"] == 1
    text = json.dumps(log)
    seed = base64.b32encode(key).decode()
    for secret in (seed, seed.rstrip("="), codes["AuthenticationCode1"], codes["AuthenticationCode2"], "alice"):
        assert secret not in text
    bench.post("/_bench/calls/reset")
    assert bench.get("/_bench/calls")["count"] == 0


def test_reset_wipes_state(bench: Bench, iam: Any) -> None:
    create(iam, "k")
    bench.post("/_bench/faults", {"action": "ListUsers", "code": "Throttling", "count": "always"})
    bench.post("/_bench/root", {"mfa_enabled": True})
    bench.post("/_bench/reset")
    assert bench.get("/_bench/calls")["count"] == 0
    assert iam.list_virtual_mfa_devices()["VirtualMFADevices"] == []
    assert bench.get("/_bench/faults")["faults"] == []
    assert bench.get("/_bench/root")["mfa_enabled"] is False
    assert bench.get("/_bench/config")["clock_offset_s"] == 0.0
    iam.list_users()


# ------------------------------------------------------------------------------------ accounts


def test_two_accounts_are_isolated(bench: Bench) -> None:
    a, b = bench.client(account=ACCOUNT_A), bench.client(account=ACCOUNT_B)
    serial_a, key_a = create(a, "shared-name")
    serial_b, key_b = create(b, "shared-name")
    assert serial_a == f"arn:aws:iam::{ACCOUNT_A}:mfa/shared-name"
    assert serial_b == f"arn:aws:iam::{ACCOUNT_B}:mfa/shared-name"
    assert key_a != key_b
    assert [d["SerialNumber"] for d in a.list_virtual_mfa_devices()["VirtualMFADevices"]] == [serial_a]
    assert [d["SerialNumber"] for d in b.list_virtual_mfa_devices()["VirtualMFADevices"]] == [serial_b]
    a.create_user(UserName="alice")
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        b.enable_mfa_device(UserName="alice", SerialNumber=serial_b, **pair(key_b, bench.step()))
    assert error_of(exc) == ("NoSuchEntity", 404)
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        a.enable_mfa_device(UserName="alice", SerialNumber=serial_b, **pair(key_b, bench.step()))
    assert error_of(exc) == ("NoSuchEntity", 404)
    a.enable_mfa_device(UserName="alice", SerialNumber=serial_a, **pair(key_a, bench.step()))
    assert bench.client(account=DEFAULT).list_virtual_mfa_devices()["VirtualMFADevices"] == []
    for account in (ACCOUNT_A, ACCOUNT_B):
        assert bench.client("sts", account=account).get_caller_identity()["Account"] == account
    # Keys moto issues itself keep their account.
    b.create_user(UserName="bob")
    issued = b.create_access_key(UserName="bob")["AccessKey"]
    bob = boto3.client(
        "iam", endpoint_url=bench.url, region_name="us-east-1",
        aws_access_key_id=issued["AccessKeyId"], aws_secret_access_key=issued["SecretAccessKey"],
    )
    assert [d["SerialNumber"] for d in bob.list_virtual_mfa_devices()["VirtualMFADevices"]] == [serial_b]
    assert bench.get(f"/_bench/access-key?account={ACCOUNT_B}")["access_key_id"] == access_key_for_account(ACCOUNT_B)
    accounts = {c["account"] for c in bench.get("/_bench/calls?action=CreateVirtualMFADevice")["calls"]}
    assert accounts == {ACCOUNT_A, ACCOUNT_B}
    # Root posture is per account.
    bench.post("/_bench/root", {"account": ACCOUNT_A, "mfa_enabled": True})
    assert a.get_account_summary()["SummaryMap"]["AccountMFAEnabled"] == 1
    assert b.get_account_summary()["SummaryMap"]["AccountMFAEnabled"] == 0


# ------------------------------------------------------------------------------------ AWS CLI, logs


def test_aws_cli_v1_create_virtual_mfa_device(bench: Bench, iam: Any, tmp_path: Path) -> None:
    aws = shutil.which("aws", path=str(Path(sys.executable).parent)) or shutil.which("aws")
    if aws is None:
        pytest.skip("AWS CLI v1 (PyPI awscli) not installed")
    outfile = tmp_path / "seed.txt"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none"),
    }
    proc = subprocess.run(
        [aws, "--endpoint-url", bench.url, "iam", "create-virtual-mfa-device",
         "--virtual-mfa-device-name", "x", "--outfile", str(outfile), "--bootstrap-method", "Base32StringSeed"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    serial = json.loads(proc.stdout)["VirtualMFADevice"]["SerialNumber"]
    assert serial == f"arn:aws:iam::{DEFAULT}:mfa/x"
    seed = outfile.read_text().strip()
    SEEDS_SEEN.append(seed)
    key = decode_seed(seed)
    iam.create_user(UserName="cli")
    iam.enable_mfa_device(UserName="cli", SerialNumber=serial, **pair(key, bench.step()))


def test_server_log_never_contains_seeds(bench: Bench, iam: Any) -> None:
    create(iam, "log-check")
    time.sleep(0.2)
    text = bench.log_path.read_text()
    assert "CreateVirtualMFADevice -> 200" in text  # -v is on: calls are logged
    assert SEEDS_SEEN
    for seed in SEEDS_SEEN:
        assert seed not in text
        assert base64.b64encode(seed.encode()).decode() not in text
