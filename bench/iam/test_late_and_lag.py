"""Tests for two eventual-consistency faults of the strict IAM bench: late writes (a write answers
an error, or nothing, and lands later) and reads that lag writes (`read_lag_s`).

Delays are short (0.3-1.3 s) and every wait is bounded.

Run: .bench/venv/bin/python -m pytest -q -p no:cacheprovider bench/iam/test_late_and_lag.py
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any, Callable

import botocore.exceptions
import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from test_strict_iam import (  # noqa: E402,F401  (fixtures)
    Bench, bench, create, error_of, iam, pair, server, user_with_device,
)

# read_lag_s in the lag tests: so long that the reads right after a write are in it even on a busy
# machine. To see the reads catch up, the tests then shorten it to SHORT_LAG (which applies to the
# writes already made) and wait a little longer than that.
LAG = 30.0
SHORT_LAG = 0.3


def catch_up(bench: Bench) -> None:
    bench.post("/_bench/config", {"read_lag_s": SHORT_LAG})
    time.sleep(SHORT_LAG + 0.15)


def late(bench: Bench, action: str, **settings: Any) -> dict[str, Any]:
    return bench.post("/_bench/faults", {"action": action, "kind": "late", **settings})


def late_writes(bench: Bench) -> dict[str, Any]:
    return bench.get("/_bench/late-writes")


def landings(bench: Bench) -> list[dict[str, Any]]:
    """The call log's late-write entries (the `late_write` part of each)."""
    return [c["late_write"] for c in bench.get("/_bench/calls?action=late-write")["calls"]]


def wait_for(what: str, ready: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not ready():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def assigned_serials(iam: Any, user: str) -> list[str]:
    return [d["SerialNumber"] for d in iam.list_mfa_devices(UserName=user)["MFADevices"]]


def virtual_serials(iam: Any, status: str = "Any") -> list[str]:
    devices = iam.list_virtual_mfa_devices(AssignmentStatus=status)["VirtualMFADevices"]
    return [d["SerialNumber"] for d in devices]


# ------------------------------------------------------------------------------------ late writes


def test_late_enable_lands_after_the_next_calls(bench: Bench, iam: Any) -> None:
    iam.create_user(UserName="alice")
    serial, key = create(iam, "alice-key")
    fault = late(bench, "EnableMFADevice", land_after_calls=2)
    assert (fault["kind"], fault["answer"], fault["land_after_calls"]) == ("late", "error", 2)
    with pytest.raises(botocore.exceptions.ClientError) as err:
        iam.enable_mfa_device(UserName="alice", SerialNumber=serial, **pair(key, bench.step()))
    assert error_of(err) == ("ServiceFailure", 500)
    pending = late_writes(bench)["pending"]
    assert [(p["action"], p["serial"], p["calls_left"]) for p in pending] == [
        ("EnableMFADevice", serial, 2)
    ]
    # The client's next two requests still see the write undone; it lands once the second is
    # answered.
    assert assigned_serials(iam, "alice") == []
    assert virtual_serials(iam, "Assigned") == []
    assert landings(bench) == [
        {"id": pending[0]["id"], "fault_id": fault["id"], "action": "EnableMFADevice",
         "serial": serial, "outcome": "applied", "error": None}
    ]
    assert assigned_serials(iam, "alice") == [serial]
    assert bench.get(f"/_bench/device?serial={serial}")["assigned"] is True
    enable_call = bench.get("/_bench/calls?action=EnableMFADevice")["calls"][0]
    assert (enable_call["status"], enable_call["fault"]) == (500, "late")
    assert enable_call["late_write_id"] == pending[0]["id"]
    assert late_writes(bench)["pending"] == []


def test_late_enable_checks_codes_at_the_step_it_arrived(bench: Bench, iam: Any) -> None:
    iam.create_user(UserName="alice")
    serial, key = create(iam, "alice-key")
    late(bench, "EnableMFADevice")  # default: lands after the client's next request
    with pytest.raises(botocore.exceptions.ClientError):
        iam.enable_mfa_device(UserName="alice", SerialNumber=serial, **pair(key, bench.step()))
    # Three steps later the pair is far outside the window, but it was valid when it arrived.
    bench.post("/_bench/config", {"clock_offset_s": bench.offset + 90})
    assert assigned_serials(iam, "alice") == []
    assert landings(bench)[0]["outcome"] == "applied"
    assert assigned_serials(iam, "alice") == [serial]


def test_late_enable_on_a_device_deleted_meanwhile_does_nothing(bench: Bench, iam: Any) -> None:
    iam.create_user(UserName="alice")
    serial, key = create(iam, "alice-key")
    late(bench, "EnableMFADevice", land_after_secs=1.0)
    with pytest.raises(botocore.exceptions.ClientError):
        iam.enable_mfa_device(UserName="alice", SerialNumber=serial, **pair(key, bench.step()))
    assert assigned_serials(iam, "alice") == []
    iam.delete_virtual_mfa_device(SerialNumber=serial)  # the client cleans up
    # It lands on time with no further request (the bench's timer).
    wait_for("the late write to land", lambda: late_writes(bench)["landed"] != [], timeout=3)
    landed = late_writes(bench)["landed"][0]
    assert (landed["outcome"], landed["error"], landed["status"]) == ("refused", "NoSuchEntity", 404)
    assert landed["landed"] - landed["queued"] >= 0.95
    assert virtual_serials(iam) == []
    assert assigned_serials(iam, "alice") == []


def test_late_create_after_a_timeout_lands_with_its_tags(bench: Bench, iam: Any) -> None:
    impatient = bench.client(read_timeout=0.3, connect_timeout=1)
    late(bench, "CreateVirtualMFADevice", answer="timeout", delay_ms=800, land_after_secs=0.5)
    t0 = time.monotonic()
    with pytest.raises(botocore.exceptions.ReadTimeoutError):
        impatient.create_virtual_mfa_device(
            VirtualMFADeviceName="late-key", Tags=[{"Key": "owner", "Value": "alice"}]
        )
    serial = "arn:aws:iam::123456789012:mfa/late-key"
    assert virtual_serials(iam) == []  # the server still holds the request
    wait_for("the late create to land", lambda: late_writes(bench)["landed"] != [], timeout=4)
    assert time.monotonic() - t0 >= 1.2  # held 0.8 s, then 0.5 s more
    assert late_writes(bench)["landed"][0]["outcome"] == "applied"
    assert virtual_serials(iam) == [serial]
    assert iam.list_mfa_device_tags(SerialNumber=serial)["Tags"] == [{"Key": "owner", "Value": "alice"}]
    # A retry now finds the name taken; the landed device's seed was never returned.
    with pytest.raises(botocore.exceptions.ClientError) as err:
        iam.create_virtual_mfa_device(VirtualMFADeviceName="late-key")
    assert error_of(err) == ("EntityAlreadyExists", 409)
    create_call = bench.get("/_bench/calls?action=CreateVirtualMFADevice")["calls"][0]
    assert (create_call["status"], create_call["fault"]) == (None, "late")
    seeds = bench.get("/_bench/issued-seeds")["seeds"]  # the late create's is the last one
    exposed = json.dumps([bench.get("/_bench/calls"), late_writes(bench), bench.get("/_bench/faults")])
    assert seeds and not any(seed in exposed for seed in seeds)


def test_late_timeout_closes_the_connection_unanswered(bench: Bench, iam: Any) -> None:
    serial, _key = create(iam, "doomed")
    patient = bench.client(read_timeout=5, connect_timeout=1)
    late(bench, "DeleteVirtualMFADevice", answer="timeout", delay_ms=300)
    t0 = time.monotonic()
    with pytest.raises(
        (botocore.exceptions.ConnectionClosedError, botocore.exceptions.EndpointConnectionError)
    ):
        patient.delete_virtual_mfa_device(SerialNumber=serial)
    assert 0.25 <= time.monotonic() - t0 < 4
    assert virtual_serials(iam) == [serial]  # the next request: lands once it is answered
    assert virtual_serials(iam) == []
    assert landings(bench)[0]["outcome"] == "applied"


def test_late_delete_of_a_device_assigned_meanwhile_fails_silently(bench: Bench, iam: Any) -> None:
    iam.create_user(UserName="alice")
    serial, key = create(iam, "alice-key")
    late(bench, "DeleteVirtualMFADevice", land_after_calls=2)
    with pytest.raises(botocore.exceptions.ClientError) as err:
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert error_of(err) == ("ServiceFailure", 500)
    assert virtual_serials(iam) == [serial]
    iam.enable_mfa_device(UserName="alice", SerialNumber=serial, **pair(key, bench.step()))
    landed = landings(bench)
    assert [(x["outcome"], x["error"]) for x in landed] == [("refused", "DeleteConflict")]
    assert virtual_serials(iam, "Assigned") == [serial]


def test_late_deactivate_lands_or_is_refused_after_a_retry(bench: Bench, iam: Any) -> None:
    serial, _key = user_with_device(bench, iam)
    second, second_key = create(iam, "second")
    late(bench, "DeactivateMFADevice", code="ServiceUnavailable", status=503)
    with pytest.raises(botocore.exceptions.ClientError) as err:
        iam.deactivate_mfa_device(UserName="alice", SerialNumber=serial)
    assert error_of(err) == ("ServiceUnavailable", 503)
    assert assigned_serials(iam, "alice") == [serial]
    assert assigned_serials(iam, "alice") == []
    assert landings(bench)[0]["outcome"] == "applied"

    # Again, but the client retries at once: the retry does it, the late write finds nothing.
    bench.post("/_bench/calls/reset")
    iam.enable_mfa_device(UserName="alice", SerialNumber=second, **pair(second_key, bench.step()))
    late(bench, "DeactivateMFADevice")
    with pytest.raises(botocore.exceptions.ClientError):
        iam.deactivate_mfa_device(UserName="alice", SerialNumber=second)
    iam.deactivate_mfa_device(UserName="alice", SerialNumber=second)
    assert [(x["outcome"], x["error"]) for x in landings(bench)] == [("refused", "NoSuchEntity")]
    assert assigned_serials(iam, "alice") == []


def test_late_writes_count_only_the_same_accounts_requests(bench: Bench) -> None:
    a = bench.client(account="111111111111")
    b = bench.client(account="222222222222")
    late(bench, "CreateVirtualMFADevice", land_after_calls=1)
    with pytest.raises(botocore.exceptions.ClientError):
        a.create_virtual_mfa_device(VirtualMFADeviceName="a-key")
    b.list_virtual_mfa_devices()
    assert late_writes(bench)["landed"] == []
    assert virtual_serials(a) == []
    assert virtual_serials(a) == ["arn:aws:iam::111111111111:mfa/a-key"]


def test_land_now_clear_and_reset(bench: Bench, iam: Any) -> None:
    late(bench, "CreateVirtualMFADevice", land_after_secs=60, count=2)
    for name in ("one", "two"):
        with pytest.raises(botocore.exceptions.ClientError):
            iam.create_virtual_mfa_device(VirtualMFADeviceName=name)
    pending = late_writes(bench)["pending"]
    assert [p["serial"].rsplit("/", 1)[-1] for p in pending] == ["one", "two"]
    assert 50 < pending[0]["due_in_s"] <= 60 and pending[0]["calls_left"] is None
    landed = bench.post("/_bench/late-writes/land", {"id": pending[0]["id"]})["landed"]
    assert [(x["serial"].rsplit("/", 1)[-1], x["outcome"]) for x in landed] == [("one", "applied")]
    assert bench.post("/_bench/late-writes/clear", {})["cleared"] == 1
    assert late_writes(bench)["pending"] == []
    assert [s.rsplit("/", 1)[-1] for s in virtual_serials(iam)] == ["one"]

    late(bench, "CreateVirtualMFADevice", land_after_secs=0.3)
    with pytest.raises(botocore.exceptions.ClientError):
        iam.create_virtual_mfa_device(VirtualMFADeviceName="three")
    bench.post("/_bench/reset")
    time.sleep(0.5)
    assert late_writes(bench) == {"pending": [], "landed": []}
    assert virtual_serials(iam) == []


def test_late_fault_arguments_are_checked(bench: Bench) -> None:
    def refused(body: dict[str, Any]) -> str:
        status, data = bench.request("POST", "/_bench/faults", body)
        assert status == 400, data
        return data["error"]

    assert "action" in refused({"action": "ListUsers", "kind": "late"})
    assert "action" in refused({"action": "*", "kind": "late"})
    assert "answer" in refused({"action": "EnableMFADevice", "kind": "late", "answer": "maybe"})
    assert "land_after_secs" in refused(
        {"action": "EnableMFADevice", "kind": "late", "land_after_secs": -1}
    )
    assert "land_after_calls" in refused(
        {"action": "EnableMFADevice", "kind": "late", "land_after_calls": 1.5}
    )
    assert "only for kind=late" in refused(
        {"action": "EnableMFADevice", "code": "Throttling", "land_after_calls": 1}
    )
    timeout = late(bench, "EnableMFADevice", answer="timeout")
    assert (timeout["delay_ms"], timeout["land_after_calls"], timeout["land_after_secs"]) == (2000, 1, None)
    both = late(bench, "EnableMFADevice", land_after_secs=2, land_after_calls=3)
    assert (both["land_after_secs"], both["land_after_calls"]) == (2.0, 3)
    plain = bench.post("/_bench/faults", {"action": "ListUsers", "code": "Throttling"})
    assert "answer" not in plain and "land_after_secs" not in plain


# ------------------------------------------------------------------------------------ read lag


def test_reads_lag_a_create(bench: Bench, iam: Any) -> None:
    bench.post("/_bench/config", {"read_lag_s": LAG})
    iam.create_user(UserName="alice")
    serial, key = create(iam, "new-key", Tags=[{"Key": "k", "Value": "v"}])
    assert virtual_serials(iam) == []
    with pytest.raises(botocore.exceptions.ClientError) as err:
        iam.list_mfa_device_tags(SerialNumber=serial)
    assert error_of(err)[0] == "NoSuchEntity"
    # Writes go through (read_lag_writes_not_found is off); reads keep the pre-create view.
    iam.enable_mfa_device(UserName="alice", SerialNumber=serial, **pair(key, bench.step()))
    assert assigned_serials(iam, "alice") == []
    assert virtual_serials(iam) == []
    assert iam.get_user(UserName="alice")["User"]["UserName"] == "alice"  # GetUser stays live
    catch_up(bench)
    assert virtual_serials(iam, "Assigned") == [serial]
    assert assigned_serials(iam, "alice") == [serial]
    assert iam.list_mfa_device_tags(SerialNumber=serial)["Tags"] == [{"Key": "k", "Value": "v"}]


def test_reads_lag_tags_deactivate_and_delete(bench: Bench, iam: Any) -> None:
    iam.create_user(UserName="alice")
    serial, key = create(iam, "old-key", Tags=[{"Key": "k", "Value": "v1"}])
    iam.enable_mfa_device(UserName="alice", SerialNumber=serial, **pair(key, bench.step()))
    enabled = iam.list_mfa_devices(UserName="alice")["MFADevices"][0]["EnableDate"]
    bench.post("/_bench/config", {"read_lag_s": LAG})
    iam.tag_mfa_device(SerialNumber=serial, Tags=[{"Key": "k", "Value": "v2"}])
    iam.deactivate_mfa_device(UserName="alice", SerialNumber=serial)
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    # Reads still show the device as it was before the first of these writes.
    listed = iam.list_mfa_devices(UserName="alice")["MFADevices"]
    assert [(d["SerialNumber"], d["EnableDate"]) for d in listed] == [(serial, enabled)]
    assert virtual_serials(iam, "Assigned") == [serial]
    assert virtual_serials(iam, "Unassigned") == []
    assert iam.list_mfa_device_tags(SerialNumber=serial)["Tags"] == [{"Key": "k", "Value": "v1"}]
    # The writes themselves see the truth: the device is gone.
    with pytest.raises(botocore.exceptions.ClientError) as err:
        iam.delete_virtual_mfa_device(SerialNumber=serial)
    assert error_of(err)[0] == "NoSuchEntity"
    catch_up(bench)
    assert virtual_serials(iam) == []
    assert assigned_serials(iam, "alice") == []
    with pytest.raises(botocore.exceptions.ClientError) as err:
        iam.list_mfa_device_tags(SerialNumber=serial)
    assert error_of(err)[0] == "NoSuchEntity"


def test_writes_on_a_device_too_new_to_read_are_no_such_entity(bench: Bench, iam: Any) -> None:
    iam.create_user(UserName="alice")
    old, old_key = create(iam, "old-key")
    bench.post("/_bench/config", {"read_lag_s": LAG, "read_lag_writes_not_found": True})
    serial, key = create(iam, "new-key")
    for call in (
        lambda: iam.enable_mfa_device(UserName="alice", SerialNumber=serial, **pair(key, bench.step())),
        lambda: iam.tag_mfa_device(SerialNumber=serial, Tags=[{"Key": "k", "Value": "v"}]),
        lambda: iam.delete_virtual_mfa_device(SerialNumber=serial),
    ):
        with pytest.raises(botocore.exceptions.ClientError) as err:
            call()
        assert error_of(err) == ("NoSuchEntity", 404)
    # A device that existed before the lag is written as usual.
    iam.enable_mfa_device(UserName="alice", SerialNumber=old, **pair(old_key, bench.step()))
    catch_up(bench)
    iam.enable_mfa_device(UserName="alice", SerialNumber=serial, **pair(key, bench.step()))
    assert bench.get(f"/_bench/device?serial={serial}")["user"] == "alice"
    assert assigned_serials(iam, "alice") == [old]  # the reads lag this enable in turn
    time.sleep(SHORT_LAG + 0.15)
    assert sorted(assigned_serials(iam, "alice")) == sorted([old, serial])


def test_a_late_write_landing_is_a_write_reads_lag(bench: Bench, iam: Any) -> None:
    bench.post("/_bench/config", {"read_lag_s": LAG, "read_lag_writes_not_found": True})
    late(bench, "CreateVirtualMFADevice", land_after_secs=60)
    with pytest.raises(botocore.exceptions.ClientError):
        iam.create_virtual_mfa_device(VirtualMFADeviceName="late-key")
    landed = bench.post("/_bench/late-writes/land", {})["landed"]
    assert [x["outcome"] for x in landed] == ["applied"]
    assert virtual_serials(iam) == []  # landed, but the reads lag it
    assert bench.get(f"/_bench/device?serial={landed[0]['serial']}")["assigned"] is False


def test_read_lag_config_is_checked(bench: Bench) -> None:
    assert bench.request("POST", "/_bench/config", {"read_lag_s": -1})[0] == 400
    assert bench.request("POST", "/_bench/config", {"read_lag_writes_not_found": 1})[0] == 400
    cfg = bench.post("/_bench/config", {"read_lag_s": 0.25})
    assert (cfg["read_lag_s"], cfg["read_lag_writes_not_found"]) == (0.25, False)
    bench.post("/_bench/reset")
    assert bench.get("/_bench/config")["read_lag_s"] == 0.0


# ------------------------------------------------------------------------------------ logs


def test_server_log_holds_no_seed_of_any_late_create(bench: Bench, iam: Any) -> None:
    late(bench, "CreateVirtualMFADevice", land_after_calls=0)
    with pytest.raises(botocore.exceptions.ClientError):
        iam.create_virtual_mfa_device(VirtualMFADeviceName="quiet")
    seeds = bench.get("/_bench/issued-seeds")["seeds"]  # every seed this server issued
    assert seeds
    time.sleep(0.2)
    text = bench.log_path.read_text()
    assert "late-write CreateVirtualMFADevice -> applied (200)" in text
    for seed in seeds:
        assert seed not in text
