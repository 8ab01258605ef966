#!/usr/bin/env python3
"""A strict IAM endpoint on loopback for the ykmfa test bench.

Runs moto's server (PyPI ``moto[server]``, pinned in requirements.txt) with the IAM virtual-MFA
behaviour patched to be as strict as AWS:

* EnableMFADevice checks the two codes against the device's seed (two consecutive TOTP steps),
  refuses codes already used, an assigned device, a 9th device for a user, unknown user/device.
* ResyncMFADevice (absent from stock moto) searches a wide window and records the device's drift.
* DeleteVirtualMFADevice of an assigned device is a DeleteConflict; names are validated; tags given
  at create time are kept; TagMFADevice / UntagMFADevice / ListMFADeviceTags exist;
  ListVirtualMFADevices never returns seeds, honours AssignmentStatus and Marker/MaxItems.
* Hardware TOTP tokens (vendor serials, not ARNs) whose seeds the account already holds, as AWS
  holds Thales tokens': EnableMFADevice with such a serial checks codes as for a virtual device.
* GetAccountSummary reports the bench's root posture (AccountMFAEnabled, AccountAccessKeysPresent).
* sts:AssumeRoot (absent from stock moto) opens a root session on a member account of the bench's
  organization, limited to its task policy; IAM's ListOrganizationsFeatures and the
  Enable/DisableOrganizationsRoot* calls answer from the same organization.

Bench-only endpoints live under ``/_bench/`` (JSON): code checks, fault injection (late writes
among them), a call log, reset, root posture, the organization, clock offset, window and read-lag
configuration. See README.md next to this file.

Seeds are never logged. The server is quiet by default; ``-v`` logs one line per API call
(service, action, HTTP status, duration), never a request or response body.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import copy
import hashlib
import hmac
import io
import json
import logging
import os
import re
import signal
import socket
import struct
import sys
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from email.utils import formatdate
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs

STEP_SECONDS = 30
DIGITS = 6
DEFAULT_ACCOUNT = "123456789012"
B32_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
# Access key ids issued by AWS (and by moto for STS/roles) carry the account number: characters
# 4..12 are base32 of (account // 2 + 2**39) in 5 bytes, and the top bit of character 12 is the
# account's parity.
ACCESS_KEY_ACCOUNT_OFFSET = 2**39
MAX_MFA_DEVICES_PER_USER = 8
TESTED_MOTO_VERSION = "5.2.5"  # keep in step with requirements.txt
SERIAL_MAX_LEN = 256
DEVICE_NAME_RE = re.compile(r"[\w+=,.@-]+", re.ASCII)
PATH_RE = re.compile(r"(/)|(/[\u0021-\u007E]+/)")
CODE_RE = re.compile(r"[0-9]{6}")
SERIAL_ARN_RE = re.compile(r"arn:([a-z0-9-]+):iam::([0-9]{12}):mfa/.+")
TAG_KEY_RE = re.compile(r"[\w\s_.:/=+\-@]+")
TAG_VALUE_RE = re.compile(r"[\w\s_.:/=+\-@]*")



# --------------------------------------------------------------------------------------------
# TOTP (RFC 6238 over RFC 4226), SHA-1, 6 digits, 30 s steps: what AWS virtual MFA uses.
# --------------------------------------------------------------------------------------------


def totp(key: bytes, step: int, digits: int = DIGITS) -> str:
    """The TOTP code of `key` for time step `step`."""
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = (struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF) % (10**digits)
    return str(value).zfill(digits)


def decode_seed(seed: str | bytes) -> bytes:
    """Base32 seed (as IAM returns it, padding optional) to key bytes."""
    if isinstance(seed, bytes):
        seed = seed.decode("ascii")
    seed = seed.strip().replace(" ", "").upper()
    seed += "=" * (-len(seed) % 8)
    return base64.b32decode(seed)


# --------------------------------------------------------------------------------------------
# Multi-account: the account an access key id stands for.
# --------------------------------------------------------------------------------------------


def access_key_for_account(account: str, prefix: str = "AKIA") -> str:
    """A deterministic 20-character access key id that encodes `account` the way AWS does."""
    number = int(account)
    if not 0 <= number <= 999_999_999_999:
        raise ValueError("account must be 12 digits")
    middle = base64.b32encode((number // 2 + ACCESS_KEY_ACCOUNT_OFFSET).to_bytes(5, "big"))
    parity = B32_ALPHABET[16] if number % 2 else B32_ALPHABET[0]
    return prefix + middle.decode("ascii") + parity + "BENCHKY"


def account_from_access_key(access_key_id: str) -> str | None:
    """The account encoded in an AWS-format access key id, or None if it encodes none."""
    if len(access_key_id) != 20 or access_key_id[:4] not in ("AKIA", "ASIA"):
        return None
    if any(c not in B32_ALPHABET for c in access_key_id[4:]):
        return None
    value = int.from_bytes(base64.b32decode(access_key_id[4:12]), "big") - ACCESS_KEY_ACCOUNT_OFFSET
    if value < 0:
        return None
    number = value * 2 + (1 if B32_ALPHABET.index(access_key_id[12]) >= 16 else 0)
    if number > 999_999_999_999:
        return None
    return f"{number:012d}"


def moto_account_for_key(access_key_id: str) -> str | None:
    """The account in which moto itself issued `access_key_id` (CreateAccessKey, AssumeRole), if any."""
    try:
        from moto.iam.models import iam_backends

        for account_id, account in list(iam_backends.items()):
            for partition in list(account.keys()):
                if access_key_id in account[partition].access_keys:
                    return account_id
    except Exception:  # moto internals changed: fall back to the other rules
        return None
    return None


# --------------------------------------------------------------------------------------------
# Bench state: configuration, faults, call log, root posture.
# --------------------------------------------------------------------------------------------


@dataclass
class Config:
    """Strictness knobs. Windows are in 30-second steps, relative to server time + device drift."""

    # EnableMFADevice / pair checks: the step of the *second* code, n+1, must lie in
    # [now - enable_past, now + enable_future].
    enable_past: int = 1
    enable_future: int = 1
    # Single (sign-in) codes: step in [now - login_past, now + login_future].
    login_past: int = 1
    login_future: int = 1
    # ResyncMFADevice: n+1 within now +/- resync_window (20 steps = 10 minutes).
    resync_window: int = 20
    # EnableMFADevice only: a pair up to this many steps older than the enable window still
    # enables the device, out of sync: its drift becomes n+1 - now, as a resync would set it.
    # AWS documents this ("wait too long to submit the request, the MFA device successfully
    # associates with the user but the MFA device becomes out of sync", API_EnableMFADevice)
    # without saying how late; 0 (the default) keeps enable strict.
    enable_late_window: int = 0
    # Seconds added to the host clock to get the server's clock (simulates skew between the host
    # running ykmfa and AWS). Also applied to the HTTP Date header.
    clock_offset_s: float = 0.0
    max_devices_per_user: int = MAX_MFA_DEVICES_PER_USER
    # Reads that lag writes (eventual consistency): for this many seconds after a write to a
    # virtual MFA device (create, enable, deactivate, delete, tag, untag, a late write landing),
    # ListMFADevices, ListVirtualMFADevices and ListMFADeviceTags still show the device as it was
    # before that write. 0 (the default): reads are live.
    read_lag_s: float = 0.0
    # With read_lag_s: a write naming a device the lagging reads cannot see yet (created within
    # the lag) answers NoSuchEntity, as eventually consistent IAM can.
    read_lag_writes_not_found: bool = False


@dataclass
class Fault:
    id: int
    action: str  # API action name, or "*" for any
    kind: str  # error | delay | malformed | empty | drop_field | replace_field | bad_seed
    remaining: int | None  # None: until cleared
    skip: int = 0  # let this many matching calls through first
    service: str | None = None
    account: str | None = None
    code: str | None = None
    status: int | None = None
    message: str | None = None
    when: str = "before"  # for kind=error: "before" the operation runs, or "after" it ran
    delay_ms: int = 0
    field: str | None = None
    value: str | None = None
    fired: int = 0
    # kind=late only: how the call answers ("error" or "timeout") and when its write lands.
    answer: str = "error"
    land_after_secs: float | None = None
    land_after_calls: int | None = None

    def public(self) -> dict[str, Any]:
        data = asdict(self)
        data["count"] = "always" if self.remaining is None else self.remaining
        del data["remaining"]
        if self.kind != "late":
            for key in ("answer", "land_after_secs", "land_after_calls"):
                del data[key]
        return data


@dataclass
class LateWrite:
    """A write a `late` fault answered with an error (or no answer), waiting to land.

    The request (its parameters, codes included) is kept only until it lands, then dropped; it is
    never logged or returned."""

    id: int
    fault_id: int
    action: str
    service: str
    account: str
    serial: str | None  # the device it names (for CreateVirtualMFADevice, the one it would create)
    answer: str
    environ: dict[str, Any] | None
    body: bytes
    at_step: int  # the server's step when the request arrived: enable codes are checked at it
    arrival_mark: int  # requests that arrive after this count towards land_after_calls
    queued: float  # server time it was queued (when the fault answered)
    due: float | None  # monotonic time it lands at (land_after_secs), or None
    calls_left: int | None  # requests still to come (land_after_calls), or None
    land_after_secs: float | None
    land_after_calls: int | None
    refusal: tuple[int, str] | None = None  # refused at request time (root session): status, code

    def public(self) -> dict[str, Any]:
        # Never the request itself (codes, tags, names beyond the serial).
        return {
            "id": self.id,
            "fault_id": self.fault_id,
            "action": self.action,
            "account": self.account,
            "serial": self.serial,
            "answer": self.answer,
            "queued": self.queued,
            "land_after_secs": self.land_after_secs,
            "land_after_calls": self.land_after_calls,
            "calls_left": self.calls_left,
            "due_in_s": None if self.due is None else max(0.0, self.due - time.monotonic()),
        }


@dataclass
class RootSession:
    """Temporary credentials AssumeRoot issued: the member account's root user, one task."""

    account: str  # the member account (the session acts as its root user)
    caller_account: str  # the management or delegated administrator account
    task_policy: str  # the task policy's name, e.g. IAMDeleteRootUserCredentials
    task_policy_arn: str
    duration_s: int
    expires: float  # server time
    session_token: str

    def public(self, access_key_id: str) -> dict[str, Any]:
        # Never the secret or the session token.
        return {
            "access_key_id": access_key_id,
            "account": self.account,
            "caller_account": self.caller_account,
            "task_policy_arn": self.task_policy_arn,
            "duration_s": self.duration_s,
            "expires": self.expires,
            "expired": server_time() >= self.expires,
        }


FAULT_KINDS = (
    "error", "delay", "malformed", "empty", "drop_field", "replace_field", "bad_seed", "late",
)
# The writes a `late` fault can delay (README.md, "Late writes").
LATE_WRITE_ACTIONS = (
    "CreateVirtualMFADevice", "EnableMFADevice", "DeactivateMFADevice", "DeleteVirtualMFADevice",
)
LATE_TIMEOUT_DEFAULT_MS = 2000
MAX_CALL_LOG = 100_000
MAX_LANDED = 10_000


class BenchState:
    def __init__(self, config: Config) -> None:
        self.lock = threading.RLock()
        self.startup_config = copy.deepcopy(config)
        self.config = config
        self.faults: list[Fault] = []
        self.next_fault_id = 1
        self.calls: list[dict[str, Any]] = []
        self.call_seq = 0
        # account -> {"mfa_enabled": bool|None, "access_keys_present": bool|None}
        self.root: dict[str, dict[str, Any]] = {}
        # root access key id -> account
        self.root_keys: dict[str, str] = {}
        # The organization (see /_bench/organization), or None: no account belongs to one.
        self.organization: dict[str, Any] | None = None
        # Root sessions opened by AssumeRoot: access key id -> RootSession.
        self.root_sessions: dict[str, RootSession] = {}
        # Every seed this server issued, for tests that scan ykmfa's outputs for them. Only the
        # bench-only endpoint /_bench/issued-seeds reveals them; nothing is printed or logged.
        self.issued_seeds: list[str] = []
        self.verbose = False
        # Late writes waiting to land, and what became of those that landed (public views).
        self.late_writes: list[LateWrite] = []
        self.landed: list[dict[str, Any]] = []
        self.next_late_id = 1
        # API requests received so far (land_after_calls counts the ones after a late write).
        self.arrivals = 0
        # Reads that lag writes: serial -> [(monotonic time of a write, the device's visible
        # state just before it)], oldest first. See lagged_view().
        self.lag_history: dict[str, list[tuple[float, dict[str, Any] | None]]] = {}

    def reset(self, keep_config: bool = False) -> None:
        with self.lock:
            if not keep_config:
                self.config = copy.deepcopy(self.startup_config)
            self.faults.clear()
            self.calls.clear()
            self.root.clear()
            self.root_keys.clear()
            self.organization = None
            self.root_sessions.clear()
            self.late_writes.clear()  # pending late writes never land
            self.landed.clear()
            self.lag_history.clear()

    def take_fault(self, action: str, service: str, account: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.action not in ("*", action):
                    continue
                if fault.service and fault.service != service:
                    continue
                if fault.account and fault.account != account:
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    return None
                fault.fired += 1
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self.faults.remove(fault)
                return copy.copy(fault)
            return None

    def record_call(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.call_seq += 1
            entry["seq"] = self.call_seq
            self.calls.append(entry)
            if len(self.calls) > MAX_CALL_LOG:
                del self.calls[: len(self.calls) - MAX_CALL_LOG]


STATE = BenchState(Config())


def server_time() -> float:
    return time.time() + STATE.config.clock_offset_s


def current_step() -> int:
    return int(server_time() // STEP_SECONDS)


# --------------------------------------------------------------------------------------------
# Per-device MFA state kept beside moto's VirtualMfaDevice objects.
# --------------------------------------------------------------------------------------------


def ext(device: Any) -> dict[str, Any]:
    """Extra state the strict bench keeps on a moto virtual MFA device."""
    state = getattr(device, "_strict_iam", None)
    if state is None:
        state = {
            "tags": [],  # [{"Key":..., "Value":...}] in insertion order
            "drift": 0,  # steps: the device's clock minus server clock, learnt by resync
            "last_step": None,  # highest step accepted for enable/sign-in (codes are one-time)
            "used": set(),  # every step ever accepted
            "root": False,  # assigned to the account's root user (bench-only)
        }
        device._strict_iam = state
    return state


def device_assigned(device: Any) -> bool:
    return getattr(device, "user", None) is not None or ext(device)["root"]


def device_key(device: Any) -> bytes:
    return decode_seed(device.base32_string_seed)


# --------------------------------------------------------------------------------------------
# Hardware TOTP tokens (Thales/Gemalto). AWS holds each token's seed by its serial: there is no
# CreateVirtualMFADevice, EnableMFADevice names the token's serial (not an ARN) with two codes read
# off its display. The bench keeps a table per account, on moto's IAM backend, so that a moto
# reset wipes tokens, assignments and used codes with the rest of the account.
# --------------------------------------------------------------------------------------------

# Fixed seeds, so tests (and manual runs) can compute a token's codes without asking the bench.
DEFAULT_HARDWARE_TOKENS = {
    "GAKT00000001": "3TLELTDIVNUNMRMA2FXNR2CVPOYMVUJR",
    "GAKT00000002": "TGPWRQD7WBN3AZRV47OKGZINKTYDF4CQ",
    "GAKT00000003": "IPBIS4GJAMTKZBNMSAQED6Q5NNZBHCQ7",
    "GAKT00000004": "6GIH2IFFDITYAA6LD2ORULVXUKDXWDCY",
    "GAHT00000005": "YRZ7U6JDNLFKE6POBAETJERJSL57GDJK",
}
# A vendor serial: never an ARN (that is what tells IAM it is not a virtual device).
HARDWARE_SERIAL_RE = re.compile(r"[\w+=,.@-]{1,256}", re.ASCII)


class HardwareToken:
    """A hardware TOTP token as IAM holds it. It has the attributes the code checks and ext() use
    on a moto virtual device (serial_number, base32_string_seed, user, enable_date), so
    check_pair / check_single / commit_codes treat both alike: same windows, drift, used codes."""

    def __init__(self, serial: str, seed: str) -> None:
        self.serial_number = serial
        self.base32_string_seed = seed
        self.user: Any = None
        self.enable_date: Any = None


def is_hardware_serial(serial: Any) -> bool:
    return isinstance(serial, str) and not serial.startswith("arn:")


def hardware_tokens(backend: Any) -> dict[str, HardwareToken]:
    """The account's hardware tokens (serial -> token), seeded with the defaults on first use."""
    table = getattr(backend, "_strict_hardware_tokens", None)
    if table is None:
        table = {s: HardwareToken(s, seed) for s, seed in DEFAULT_HARDWARE_TOKENS.items()}
        backend._strict_hardware_tokens = table
    return table


def mfa_device(backend: Any, serial: Any) -> Any:
    """The virtual device or hardware token a serial names in this account, or None."""
    if is_hardware_serial(serial):
        return hardware_tokens(backend).get(serial)
    return backend.virtual_mfa_devices.get(serial)


# --------------------------------------------------------------------------------------------
# Reads that lag writes (config read_lag_s) and late writes landing (fault kind "late").
# --------------------------------------------------------------------------------------------

# Set while a late write lands (BenchApp._land): .active, and .at_step, the server step at which
# the request arrived (EnableMFADevice checks its codes at that step).
_REPLAY = threading.local()
# lagged_view(): the reads see the device as it is now.
_LIVE = object()


def _replaying() -> bool:
    return bool(getattr(_REPLAY, "active", False))


def device_view(device: Any) -> dict[str, Any] | None:
    """What the reads show of a device (None: it does not exist). Never the seed."""
    if device is None:
        return None
    state = ext(device)
    user = getattr(device, "user", None)
    assigned = user is not None or bool(state["root"])
    # ListMFADevices shows the user's own record of the device (moto keeps its own EnableDate).
    record = user.mfa_devices.get(device.serial_number) if user is not None else None
    return {
        "serial": device.serial_number,
        "user_name": user.name if user is not None else None,
        "user": _user_view(user) if user is not None else None,
        "root": bool(state["root"]),
        "enable_date": device.enable_date if assigned else None,
        "user_enable_date": getattr(record, "enable_date", device.enable_date) if record else None,
        "tags": [dict(t) for t in state["tags"]],
    }


def note_write(serial: str, before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    """Remember a write to a device, so that reads lag it by read_lag_s. Call with STATE.lock."""
    lag = STATE.config.read_lag_s
    if lag <= 0 or before == after:
        return
    now = time.monotonic()
    for key in list(STATE.lag_history):
        entries = [e for e in STATE.lag_history[key] if e[0] > now - lag]
        if entries:
            STATE.lag_history[key] = entries
        else:
            del STATE.lag_history[key]
    STATE.lag_history.setdefault(serial, []).append((now, copy.deepcopy(before)))


def lagged_view(serial: str) -> Any:
    """The device as lagging reads see it: the state before the oldest write to it less than
    read_lag_s ago (None: it did not exist then), or _LIVE when no such write. Call with STATE.lock."""
    lag = STATE.config.read_lag_s
    entries = STATE.lag_history.get(serial)
    if lag <= 0 or not entries:
        return _LIVE
    cutoff = time.monotonic() - lag
    for written, before in entries:
        if written > cutoff:
            return before
    return _LIVE


def lagged_serials(account: str, partition: str) -> list[str]:
    """Devices of an account whose reads lag a write right now. Call with STATE.lock."""
    prefix = f"arn:{partition}:iam::{account}:mfa/"
    return [s for s in STATE.lag_history if s.startswith(prefix) and lagged_view(s) is not _LIVE]


def visible_devices(backend: Any, account: str, partition: str) -> list[dict[str, Any]]:
    """The account's virtual devices as (possibly lagging) reads show them, in creation order;
    devices deleted within the lag last. Call with STATE.lock."""
    views = []
    for device in list(backend.virtual_mfa_devices.values()):
        lagged = lagged_view(device.serial_number)
        view = device_view(device) if lagged is _LIVE else lagged
        if view is not None:
            views.append(view)
    for serial in lagged_serials(account, partition):
        if serial not in backend.virtual_mfa_devices:
            view = lagged_view(serial)
            if view is not None:
                views.append(view)
    return views


def hidden_by_lag(backend: Any, serial: Any) -> bool:
    """read_lag_writes_not_found: does a write naming this device answer NoSuchEntity? True when
    the device exists but the lagging reads cannot see it yet. A late write landing is never
    hidden. Call with STATE.lock."""
    if not STATE.config.read_lag_writes_not_found or _replaying() or not isinstance(serial, str):
        return False
    return serial in backend.virtual_mfa_devices and lagged_view(serial) is None


@dataclass
class CodeResult:
    accepted: bool
    reason: str  # ok | wrong_code | reused
    step: int | None = None  # step of the (last) code matched
    now: int = 0
    # Enable matched the pair only through enable_late_window: the device will be out of sync.
    out_of_sync: bool = False

    def public(self, device: Any) -> dict[str, Any]:
        out: dict[str, Any] = {
            "accepted": self.accepted,
            "reason": self.reason,
            "drift_steps": ext(device)["drift"],
            "assigned": device_assigned(device),
            "server_step": self.now,
        }
        if self.step is not None:
            out["step_offset"] = self.step - self.now
        return out


def _offsets(lo: int, hi: int) -> list[int]:
    return sorted(range(lo, hi + 1), key=lambda k: (abs(k), k))


def check_pair(
    device: Any, code1: str, code2: str, resync: bool = False, late: int = 0, at: int | None = None
) -> CodeResult:
    """Is (code1, code2) the codes of two consecutive steps (n, n+1) in the allowed window?

    Enable/pair mode: n+1 in [now+drift-enable_past, now+drift+enable_future], and n must be newer
    than every step already accepted for this device (codes are one-time). With `late` (enable
    only), n+1 may also be up to `late` steps before that window: the result is then
    `out_of_sync`.
    Resync mode: n+1 in now +/- resync_window (drift ignored), the pair never used before.
    `at` (a late write landing): the step taken as "now", the one at which the request arrived.
    """
    cfg = STATE.config
    key = device_key(device)
    state = ext(device)
    now = current_step() if at is None else at
    if resync:
        center, lo, hi = now, -cfg.resync_window, cfg.resync_window
    else:
        center, lo, hi = now + state["drift"], -cfg.enable_past - late, cfg.enable_future
    matched = []
    for k in _offsets(lo, hi):
        second = center + k
        if hmac.compare_digest(totp(key, second - 1), code1) and hmac.compare_digest(
            totp(key, second), code2
        ):
            matched.append(second)
    if not matched:
        return CodeResult(False, "wrong_code", now=now)
    for second in matched:
        first = second - 1
        if first in state["used"] or second in state["used"]:
            continue
        if not resync and state["last_step"] is not None and first <= state["last_step"]:
            continue
        out_of_sync = not resync and second - center < -cfg.enable_past
        return CodeResult(True, "ok", step=second, now=now, out_of_sync=out_of_sync)
    return CodeResult(False, "reused", step=matched[0], now=now)


def check_single(device: Any, code: str) -> CodeResult:
    """Would a sign-in with this one code pass now (window around now + drift, not reused)?"""
    cfg = STATE.config
    key = device_key(device)
    state = ext(device)
    now = current_step()
    center = now + state["drift"]
    matched = [
        center + k
        for k in _offsets(-cfg.login_past, cfg.login_future)
        if hmac.compare_digest(totp(key, center + k), code)
    ]
    if not matched:
        return CodeResult(False, "wrong_code", now=now)
    for step in matched:
        if step in state["used"]:
            continue
        if state["last_step"] is not None and step <= state["last_step"]:
            continue
        return CodeResult(True, "ok", step=step, now=now)
    return CodeResult(False, "reused", step=matched[0], now=now)


def commit_codes(device: Any, result: CodeResult, pair: bool, resync: bool = False) -> None:
    state = ext(device)
    assert result.step is not None
    steps = [result.step - 1, result.step] if pair else [result.step]
    state["used"].update(steps)
    if resync or result.out_of_sync:
        state["drift"] = result.step - result.now
        state["last_step"] = result.step
    else:
        state["last_step"] = max(state["last_step"] or result.step, result.step)


# --------------------------------------------------------------------------------------------
# Patches to moto's IAM (and a little STS).
# --------------------------------------------------------------------------------------------


def _svc_error(code: str, message: str) -> Exception:
    # An exception class from moto's IAM package, so that moto serialises it with IAM's error
    # model (HTTP status per error code, e.g. InvalidAuthenticationCode 403, DeleteConflict 409).
    from moto.iam.exceptions import IAMException

    return IAMException(code, message)


def _validation(param: str, value: Any, constraint: str) -> Exception:
    return _svc_error(
        "ValidationError",
        f"1 validation error detected: Value '{value}' at '{param}' failed to satisfy constraint: "
        f"{constraint}",
    )


def _check_code_param(value: Any, param: str) -> str:
    if value is None:
        raise _validation(param, value, "Member must not be null")
    value = str(value)
    if not CODE_RE.fullmatch(value):
        raise _validation(
            param, value, "Member must have length 6 and satisfy regular expression pattern: [\\d]+"
        )
    return value


def _require(value: Any, param: str) -> Any:
    if value is None or value == "":
        raise _validation(param, value, "Member must not be null")
    return value


def _user_view(user: Any) -> dict[str, Any]:
    return {
        "Path": user.path,
        "UserName": user.name,
        "UserId": user.id,
        "Arn": user.arn,
        "CreateDate": user.create_date,
    }


def _root_view(account: str, partition: str) -> dict[str, Any]:
    # The root user has no user name; IAM reports it by ARN and the account id as its id.
    return {
        "Path": "/",
        "UserId": account,
        "Arn": f"arn:{partition}:iam::{account}:root",
    }


def _validate_tags(tags: list[dict[str, Any]], param: str = "tags") -> list[dict[str, str]]:
    if len(tags) > 50:
        raise _validation(param, "[...]", "Member must have length less than or equal to 50")
    seen: set[str] = set()
    clean = []
    for tag in tags:
        key = tag.get("Key")
        value = tag.get("Value", "")
        if key is None or value is None:
            raise _validation(param, tag, "Member must not be null")
        key, value = str(key), str(value)
        if not 1 <= len(key) <= 128 or not TAG_KEY_RE.fullmatch(key):
            raise _validation(
                f"{param}.member.key",
                key,
                "Member must have length between 1 and 128 and satisfy regular expression "
                "pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+",
            )
        if len(value) > 256 or not TAG_VALUE_RE.fullmatch(value):
            raise _validation(
                f"{param}.member.value",
                value,
                "Member must have length less than or equal to 256 and satisfy regular "
                "expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*",
            )
        if key.lower() in seen:
            raise _svc_error(
                "InvalidInput",
                "Duplicate tag keys found. Please note that Tag keys are case insensitive.",
            )
        seen.add(key.lower())
        clean.append({"Key": key, "Value": value})
    return clean


def _merge_tags(existing: list[dict[str, str]], new: list[dict[str, str]]) -> list[dict[str, str]]:
    by_key = {t["Key"].lower(): i for i, t in enumerate(existing)}
    merged = list(existing)
    for tag in new:
        idx = by_key.get(tag["Key"].lower())
        if idx is None:
            by_key[tag["Key"].lower()] = len(merged)
            merged.append(tag)
        else:
            merged[idx] = tag
    return merged


def _max_items(value: Any) -> int:
    if value is None or value == "":
        return 100
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _validation("maxItems", value, "Member must be an integer") from None
    if not 1 <= number <= 1000:
        raise _validation(
            "maxItems",
            value,
            "Member must have value greater than or equal to 1 and less than or equal to 1000",
        )
    return number


def _encode_marker(index: int) -> str:
    return base64.urlsafe_b64encode(f"strict-iam:{index}".encode()).decode()


def _decode_marker(marker: Any) -> int:
    if marker is None or marker == "":
        return 0
    try:
        text = base64.urlsafe_b64decode(str(marker).encode()).decode()
        prefix, _, number = text.partition(":")
        if prefix != "strict-iam":
            raise ValueError
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise _svc_error("InvalidInput", "Invalid Marker.") from None


def _paginate(items: list[Any], marker: Any, max_items: Any) -> tuple[list[Any], str | None]:
    start = _decode_marker(marker)
    size = _max_items(max_items)
    if start > len(items):
        raise _svc_error("InvalidInput", "Invalid Marker.")
    page = items[start : start + size]
    next_marker = _encode_marker(start + size) if start + size < len(items) else None
    return page, next_marker


def _virtual_device(backend: Any, serial: str, write: bool = False) -> Any:
    device = backend.virtual_mfa_devices.get(serial)
    if device is None or (write and hidden_by_lag(backend, serial)):
        raise _svc_error(
            "NoSuchEntity", f"VirtualMFADevice with serial number {serial} doesn't exist."
        )
    return device


def _caller_user(response: Any) -> Any:
    try:
        return response.backend.get_user_from_access_key_id(response.get_access_key())
    except Exception:
        return None


def _caller_is_root(response: Any) -> bool:
    """A registered root key, or a root session (AssumeRoot): the request acts as root."""
    try:
        key = response.get_access_key()
    except Exception:
        return False
    return key in STATE.root_keys or key in STATE.root_sessions


def install_patches() -> None:
    """Patch moto's IAM response handler (and STS GetCallerIdentity) in place. Idempotent."""
    from moto.core.responses import ActionResult, EmptyResult
    from moto.iam.responses import IamResponse
    from moto.sts.responses import TokenResponse

    if getattr(IamResponse, "_strict_iam_patched", False):
        return

    original_get_caller_identity = TokenResponse.get_caller_identity
    original_delete_user = IamResponse.delete_user
    original_list_mfa_devices = IamResponse.list_mfa_devices
    original_list_access_keys = IamResponse.list_access_keys
    original_delete_access_key = IamResponse.delete_access_key
    original_get_login_profile = IamResponse.get_login_profile
    original_list_signing_certificates = IamResponse.list_signing_certificates

    def create_virtual_mfa_device(self: Any) -> Any:
        name = _require(self._get_param("VirtualMFADeviceName"), "virtualMFADeviceName")
        path = self._get_param("Path") or "/"
        tags = _validate_tags(self._get_param("Tags", []) or [])
        if not DEVICE_NAME_RE.fullmatch(str(name)):
            raise _validation(
                "virtualMFADeviceName",
                name,
                "Member must satisfy regular expression pattern: [\\w+=,.@-]+",
            )
        if len(path) > 512 or not PATH_RE.fullmatch(path):
            raise _validation(
                "path",
                path,
                "Member must satisfy regular expression pattern: "
                "(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)",
            )
        serial = f"arn:{self.partition}:iam::{self.current_account}:mfa{path}{name}"
        if len(serial) > SERIAL_MAX_LEN:
            raise _validation(
                "virtualMFADeviceName",
                name,
                f"Member must have length less than or equal to "
                f"{SERIAL_MAX_LEN - (len(serial) - len(name))} "
                f"(the serial number may not exceed {SERIAL_MAX_LEN} characters)",
            )
        with STATE.lock:
            backend = self.backend
            # Names are unique per account, whatever the path.
            for existing in backend.virtual_mfa_devices.values():
                if existing.serial_number.rsplit("/", 1)[-1] == name:
                    raise _svc_error(
                        "EntityAlreadyExists",
                        "MFADevice entity at the same path and name already exists.",
                    )
            device = backend.create_virtual_mfa_device(name, path)
            ext(device)["tags"] = tags
            STATE.issued_seeds.append(device.base32_string_seed)
        return ActionResult(
            {
                "VirtualMFADevice": {
                    "SerialNumber": device.serial_number,
                    "Base32StringSeed": device.base32_string_seed,
                    "QRCodePNG": device.qr_code_png,
                }
            }
        )

    def enable_mfa_device(self: Any) -> Any:
        user_name = _require(self._get_param("UserName"), "userName")
        serial = _require(self._get_param("SerialNumber"), "serialNumber")
        code1 = _check_code_param(self._get_param("AuthenticationCode1"), "authenticationCode1")
        code2 = _check_code_param(self._get_param("AuthenticationCode2"), "authenticationCode2")
        with STATE.lock:
            backend = self.backend
            user = backend.get_user(user_name)  # NoSuchEntity
            hardware = is_hardware_serial(serial)
            if hardware:
                # AWS knows a token's seed by its serial; a serial it never sold is unknown.
                device = hardware_tokens(backend).get(serial)
                if device is None:
                    raise _svc_error(
                        "NoSuchEntity", f"MFA device with serial number {serial} does not exist."
                    )
            else:
                device = _virtual_device(backend, serial, write=True)
            if (
                device_assigned(device)
                or serial in user.mfa_devices
                or (hardware and _root_holds_hardware(self.current_account, serial))
            ):
                raise _svc_error("EntityAlreadyExists", "MFA Device is already in use.")
            limit = STATE.config.max_devices_per_user
            if len(user.mfa_devices) >= limit:
                raise _svc_error(
                    "LimitExceeded", f"Cannot exceed quota for MFADevicesPerUser: {limit}"
                )
            result = check_pair(
                device,
                code1,
                code2,
                late=STATE.config.enable_late_window,
                at=getattr(_REPLAY, "at_step", None),
            )
            if not result.accepted:
                raise _svc_error(
                    "InvalidAuthenticationCode", "Authentication code for device is not valid."
                )
            commit_codes(device, result, pair=True)
            backend.enable_mfa_device(user_name, serial, code1, code2)
            if hardware:
                # moto records the user's side (ListMFADevices); the token's side is ours.
                device.user = user
                device.enable_date = user.mfa_devices[serial].enable_date
        return EmptyResult()

    def resync_mfa_device(self: Any) -> Any:
        user_name = _require(self._get_param("UserName"), "userName")
        serial = _require(self._get_param("SerialNumber"), "serialNumber")
        code1 = _check_code_param(self._get_param("AuthenticationCode1"), "authenticationCode1")
        code2 = _check_code_param(self._get_param("AuthenticationCode2"), "authenticationCode2")
        with STATE.lock:
            backend = self.backend
            user = backend.get_user(user_name)
            device = mfa_device(backend, serial)
            if device is None or serial not in user.mfa_devices or hidden_by_lag(backend, serial):
                raise _svc_error(
                    "NoSuchEntity",
                    f"MFA device with serial number {serial} is not assigned to user {user_name}.",
                )
            result = check_pair(device, code1, code2, resync=True)
            if not result.accepted:
                raise _svc_error(
                    "InvalidAuthenticationCode", "Authentication code for device is not valid."
                )
            commit_codes(device, result, pair=True, resync=True)
        return EmptyResult()

    def deactivate_mfa_device(self: Any) -> Any:
        user_name = self._get_param("UserName")
        serial = _require(self._get_param("SerialNumber"), "serialNumber")
        with STATE.lock:
            backend = self.backend
            device = mfa_device(backend, serial)
            if hidden_by_lag(backend, serial):
                raise _svc_error(
                    "NoSuchEntity", f"MFA device with serial number {serial} does not exist."
                )
            if not user_name:
                if device is not None and ext(device)["root"]:
                    # An AssumeRoot session deactivating the root user's device.
                    _unassign_root(device)
                    return EmptyResult()
                caller = _caller_user(self)
                if caller is None:
                    raise _svc_error(
                        "NoSuchEntity",
                        f"MFA device with serial number {serial} is not assigned to the caller.",
                    )
                user_name = caller.name
            user = backend.get_user(user_name)
            if serial not in user.mfa_devices:
                raise _svc_error(
                    "NoSuchEntity",
                    f"MFA device with serial number {serial} is not assigned to user {user_name}.",
                )
            backend.deactivate_mfa_device(user_name, serial)
            if isinstance(device, HardwareToken):
                # The token stays known to the account, free to enable again (for anyone), with
                # its drift and used codes.
                device.user = None
                device.enable_date = None
        return EmptyResult()

    def delete_virtual_mfa_device(self: Any) -> Any:
        serial = _require(self._get_param("SerialNumber"), "serialNumber")
        with STATE.lock:
            backend = self.backend
            device = _virtual_device(backend, serial, write=True)
            if device_assigned(device):
                raise _svc_error(
                    "DeleteConflict", "MFA VirtualDevice in use. Must deactivate first."
                )
            backend.delete_virtual_mfa_device(serial)
        return EmptyResult()

    def list_virtual_mfa_devices(self: Any) -> Any:
        status = self._get_param("AssignmentStatus") or "Any"
        if status not in ("Assigned", "Unassigned", "Any"):
            raise _validation(
                "assignmentStatus",
                status,
                "Member must satisfy enum value set: [Any, Assigned, Unassigned]",
            )
        with STATE.lock:
            # The devices as reads show them: with read_lag_s, as they were before recent writes.
            views = visible_devices(self.backend, self.current_account, self.partition)
            if status == "Assigned":
                views = [v for v in views if v["user"] is not None or v["root"]]
            elif status == "Unassigned":
                views = [v for v in views if v["user"] is None and not v["root"]]
            page, marker = _paginate(views, self._get_param("Marker"), self._get_param("MaxItems"))
            items = []
            for view in page:
                # Never the seed or QR code: AWS shows those once, in the create response.
                item: dict[str, Any] = {"SerialNumber": view["serial"]}
                if view["user"] is not None:
                    item["User"] = view["user"]
                    item["EnableDate"] = view["enable_date"]
                elif view["root"]:
                    item["User"] = _root_view(self.current_account, self.partition)
                    item["EnableDate"] = view["enable_date"]
                items.append(item)
        result: dict[str, Any] = {"VirtualMFADevices": items, "IsTruncated": marker is not None}
        if marker is not None:
            result["Marker"] = marker
        return ActionResult(result)

    def tag_mfa_device(self: Any) -> Any:
        serial = _require(self._get_param("SerialNumber"), "serialNumber")
        tags = _validate_tags(self._get_param("Tags", []) or [])
        with STATE.lock:
            device = _virtual_device(self.backend, serial, write=True)
            merged = _merge_tags(ext(device)["tags"], tags)
            if len(merged) > 50:
                raise _svc_error(
                    "LimitExceeded", "The number of tags has reached the maximum limit."
                )
            ext(device)["tags"] = merged
        return EmptyResult()

    def untag_mfa_device(self: Any) -> Any:
        serial = _require(self._get_param("SerialNumber"), "serialNumber")
        keys = self._get_param("TagKeys", []) or []
        if len(keys) > 50:
            raise _validation("tagKeys", "[...]", "Member must have length less than or equal to 50")
        drop = {str(k).lower() for k in keys}
        with STATE.lock:
            device = _virtual_device(self.backend, serial, write=True)
            ext(device)["tags"] = [t for t in ext(device)["tags"] if t["Key"].lower() not in drop]
        return EmptyResult()

    def list_mfa_device_tags(self: Any) -> Any:
        serial = _require(self._get_param("SerialNumber"), "serialNumber")
        with STATE.lock:
            view = lagged_view(serial)
            if view is _LIVE:
                tags = list(ext(_virtual_device(self.backend, serial))["tags"])
            elif view is None:  # created within read_lag_s: not visible yet
                raise _svc_error(
                    "NoSuchEntity", f"VirtualMFADevice with serial number {serial} doesn't exist."
                )
            else:
                tags = list(view["tags"])
            page, marker = _paginate(tags, self._get_param("Marker"), self._get_param("MaxItems"))
        result: dict[str, Any] = {"Tags": page, "IsTruncated": marker is not None}
        if marker is not None:
            result["Marker"] = marker
        return ActionResult(result)

    def get_mfa_device(self: Any) -> Any:
        serial = _require(self._get_param("SerialNumber"), "serialNumber")
        # GetMFADevice serves FIDO security keys only; the bench has none.
        raise _svc_error("NoSuchEntity", f"MFA device with serial number {serial} not found.")

    def list_mfa_devices(self: Any) -> Any:
        if not self._get_param("UserName") and _caller_is_root(self):
            with STATE.lock:
                devices = [
                    {"UserName": "", "SerialNumber": v["serial"], "EnableDate": v["enable_date"]}
                    for v in visible_devices(self.backend, self.current_account, self.partition)
                    if v["root"]
                ]
                devices += [
                    {"UserName": "", "SerialNumber": d["serial"], "EnableDate": d["enable_date"]}
                    for d in STATE.root.get(self.current_account, {}).get("hardware_devices", [])
                ]
            return ActionResult({"MFADevices": devices, "IsTruncated": False})
        result = original_list_mfa_devices(self)
        with STATE.lock:
            lagging = lagged_serials(self.current_account, self.partition)
            user_name = self._get_param("UserName")
            if not user_name:
                caller = _caller_user(self)
                user_name = caller.name if caller is not None else None
            if not lagging or not user_name:
                return result
            # read_lag_s: devices written recently show as they were before the write.
            data = dict(result.result)
            items = list(data["MFADevices"])
            for serial in lagging:
                view = lagged_view(serial)
                shown = isinstance(view, dict) and view["user_name"] == user_name
                listed = [i for i in items if i["SerialNumber"] == serial]
                if listed and not shown:
                    items = [i for i in items if i["SerialNumber"] != serial]
                elif listed:
                    listed[0]["EnableDate"] = view["user_enable_date"]
                elif shown:
                    items.append(
                        {
                            "UserName": self._get_param("UserName"),
                            "SerialNumber": serial,
                            "EnableDate": view["user_enable_date"],
                        }
                    )
            data["MFADevices"] = items
        return ActionResult(data)

    def list_access_keys(self: Any) -> Any:
        if not self._get_param("UserName") and _caller_is_root(self):
            with STATE.lock:
                keys = [
                    {"AccessKeyId": k, "Status": "Active"}
                    for k, a in sorted(STATE.root_keys.items())
                    if a == self.current_account
                ]
            return ActionResult({"AccessKeyMetadata": keys, "IsTruncated": False})
        return original_list_access_keys(self)

    def get_login_profile(self: Any) -> Any:
        if not self._get_param("UserName") and _caller_is_root(self):
            # Root's console password (bench state: /_bench/root "password"), as a root session
            # reads it; none after its credentials were deleted centrally.
            with STATE.lock:
                entry = STATE.root.get(self.current_account, {})
                if not entry.get("password", True):
                    raise _svc_error(
                        "NoSuchEntity", "Login Profile for the root user cannot be found."
                    )
                created = entry.get("password_created", "2020-01-01T00:00:00Z")
            return ActionResult(
                {"LoginProfile": {"UserName": "", "CreateDate": created,
                                  "PasswordResetRequired": False}}
            )
        return original_get_login_profile(self)

    def list_signing_certificates(self: Any) -> Any:
        if not self._get_param("UserName") and _caller_is_root(self):
            with STATE.lock:
                count = STATE.root.get(self.current_account, {}).get("signing_certificates", 0)
            certificates = [
                {"UserName": "", "CertificateId": f"ROOTCERT{i:032d}",
                 "CertificateBody": "-----BEGIN CERTIFICATE-----bench-----END CERTIFICATE-----",
                 "Status": "Active", "UploadDate": "2020-01-01T00:00:00Z"}
                for i in range(count)
            ]
            return ActionResult({"Certificates": certificates, "IsTruncated": False})
        return original_list_signing_certificates(self)

    def delete_access_key(self: Any) -> Any:
        key = self._get_param("AccessKeyId")
        if not self._get_param("UserName") and _caller_is_root(self):
            # Root's own keys (the bench's /_bench/root keys), as a root session deletes them.
            with STATE.lock:
                if STATE.root_keys.get(key) != self.current_account:
                    raise _svc_error("NoSuchEntity", f"The Access Key with id {key} cannot be found")
                del STATE.root_keys[key]
            return EmptyResult()
        return original_delete_access_key(self)

    def get_account_summary(self: Any) -> Any:
        summary = dict(self.backend.get_account_summary().summary_map)
        posture = root_posture(self.current_account)
        summary["AccountMFAEnabled"] = 1 if posture["mfa_enabled"] else 0
        summary["AccountAccessKeysPresent"] = 1 if posture["access_keys_present"] else 0
        return ActionResult({"SummaryMap": summary})

    def delete_user(self: Any) -> Any:
        user_name = self._get_param("UserName")
        with STATE.lock:
            user = self.backend.get_user(user_name)
            if user.mfa_devices:
                raise _svc_error(
                    "DeleteConflict", "Cannot delete entity, must delete MFA device first."
                )
        return original_delete_user(self)

    def lagging(handler: Callable[[Any], Any]) -> Callable[[Any], Any]:
        """A write to one virtual device: reads lag it by read_lag_s (note_write)."""

        def wrapper(self: Any) -> Any:
            serial = self._get_param("SerialNumber")
            if handler is create_virtual_mfa_device:
                name = self._get_param("VirtualMFADeviceName")
                path = self._get_param("Path") or "/"
                serial = f"arn:{self.partition}:iam::{self.current_account}:mfa{path}{name}"
            if not isinstance(serial, str):
                return handler(self)
            with STATE.lock:
                before = device_view(self.backend.virtual_mfa_devices.get(serial))
                result = handler(self)
                note_write(serial, before, device_view(self.backend.virtual_mfa_devices.get(serial)))
            return result

        return wrapper

    def get_caller_identity(self: Any) -> Any:
        key = self.get_access_key()
        account = STATE.root_keys.get(key)
        session = STATE.root_sessions.get(key)
        if session is not None:
            account = session.account
        if account is not None:
            return ActionResult(
                {"UserId": account, "Account": account, "Arn": f"arn:{self.partition}:iam::{account}:root"}
            )
        return original_get_caller_identity(self)

    for name, function in {
        "create_virtual_mfa_device": lagging(create_virtual_mfa_device),
        "enable_mfa_device": lagging(enable_mfa_device),
        "resync_mfa_device": resync_mfa_device,
        "deactivate_mfa_device": lagging(deactivate_mfa_device),
        "delete_virtual_mfa_device": lagging(delete_virtual_mfa_device),
        "list_virtual_mfa_devices": list_virtual_mfa_devices,
        "tag_mfa_device": lagging(tag_mfa_device),
        "untag_mfa_device": lagging(untag_mfa_device),
        "list_mfa_device_tags": list_mfa_device_tags,
        "get_mfa_device": get_mfa_device,
        "list_mfa_devices": list_mfa_devices,
        "list_access_keys": list_access_keys,
        "delete_access_key": delete_access_key,
        "get_login_profile": get_login_profile,
        "list_signing_certificates": list_signing_certificates,
        "get_account_summary": get_account_summary,
        "delete_user": delete_user,
        "list_organizations_features": _list_organizations_features,
        "enable_organizations_root_credentials_management": _enable_root_credentials_management,
        "enable_organizations_root_sessions": _enable_root_sessions,
        "disable_organizations_root_credentials_management": _disable_root_credentials_management,
        "disable_organizations_root_sessions": _disable_root_sessions,
    }.items():
        function.__name__ = name
        setattr(IamResponse, name, function)
    get_caller_identity.__name__ = "get_caller_identity"
    TokenResponse.get_caller_identity = get_caller_identity
    IamResponse._strict_iam_patched = True


# --------------------------------------------------------------------------------------------
# Root posture (bench-only: AWS does not let the API enroll root).
# --------------------------------------------------------------------------------------------


def _iam_backend(account: str, partition: str = "aws") -> Any:
    from moto.iam.models import iam_backends

    return iam_backends[account][partition]


def _root_devices(account: str) -> list[Any]:
    result = []
    for partition in ("aws",):
        backend = _iam_backend(account, partition)
        result += [d for d in backend.virtual_mfa_devices.values() if ext(d)["root"]]
    return result


def root_posture(account: str) -> dict[str, Any]:
    with STATE.lock:
        raw = STATE.root.get(account, {})
        devices = _root_devices(account)
        keys = sorted(k for k, a in STATE.root_keys.items() if a == account)
        mfa = raw.get("mfa_enabled")
        present = raw.get("access_keys_present")
        hardware = [d["serial"] for d in raw.get("hardware_devices", [])]
        return {
            "account": account,
            "mfa_enabled": bool(devices or hardware) if mfa is None else bool(mfa),
            "access_keys_present": bool(keys) if present is None else bool(present),
            "mfa_devices": [d.serial_number for d in devices] + hardware,
            "access_key_ids": keys,
            "password": raw.get("password", True),
            "signing_certificates": raw.get("signing_certificates", 0),
            "credentials_deleted": raw.get("credentials_deleted", False),
        }


def _root_holds_hardware(account: str, serial: str) -> bool:
    """Is this vendor serial one of root's hardware devices (bench root posture)?"""
    with STATE.lock:
        held = STATE.root.get(account, {}).get("hardware_devices", [])
        return any(d["serial"] == serial for d in held)


def _root_hardware_device(account: str, kind: str, name: str) -> dict[str, Any]:
    """A root MFA device that is not virtual: a hardware TOTP token (a vendor serial, no ARN) or
    a FIDO security key (an ARN under u2f/root/, as IAM lists FIDO keys)."""
    from moto.core.utils import utcnow

    if kind == "fido":
        serial = f"arn:aws:iam::{account}:u2f/root/{name}-" + "".join(
            B32_ALPHABET[b % 32] for b in hashlib.sha1(f"{account}{name}".encode()).digest()[:26]
        )
    elif kind == "hardware":
        serial = "GAHT" + str(int(hashlib.sha1(f"{account}{name}".encode()).hexdigest(), 16))[:8]
    else:
        raise BenchError(400, "a root hardware device's kind is 'hardware' or 'fido'")
    return {"serial": serial, "kind": kind, "enable_date": utcnow()}


def _delete_root_credentials(account: str) -> None:
    """What IAMDeleteRootUserCredentials leaves: no password, keys, certificates or MFA."""
    entry = STATE.root.setdefault(account, {})
    for device in _root_devices(account):
        _unassign_root(device)
    for key in [k for k, a in STATE.root_keys.items() if a == account]:
        del STATE.root_keys[key]
    entry.update(password=False, signing_certificates=0, hardware_devices=[],
                 credentials_deleted=True, mfa_enabled=None, access_keys_present=None)


def _assign_root(device: Any, account: str) -> None:
    from moto.core.utils import utcnow

    state = ext(device)
    state["root"] = True
    device.enable_date = utcnow()
    device.user = None
    device.user_attribute = _root_view(account, "aws")


def _unassign_root(device: Any) -> None:
    ext(device)["root"] = False
    device.enable_date = None
    device.user_attribute = None


# --------------------------------------------------------------------------------------------
# Organizations and root sessions: sts:AssumeRoot and IAM's centralized root access calls.
# --------------------------------------------------------------------------------------------

ROOT_FEATURES = ("RootCredentialsManagement", "RootSessions")
ROOT_SESSION_MAX_SECONDS = 900
# The AWS-managed task policies AssumeRoot accepts (STS API reference, AssumeRoot), each with the
# actions a session scoped by it may call. IAMDeleteRootUserCredentials follows the IAM User
# Guide ("delete root user credentials": password, access keys, signing certificates, MFA
# devices, with the reads those need); the other lists are approximations. sts:GetCallerIdentity
# needs no permission and is always allowed.
ROOT_TASK_POLICIES: dict[str, frozenset[str]] = {
    "IAMDeleteRootUserCredentials": frozenset(
        "iam:" + a
        for a in (
            "ListMFADevices",
            "DeactivateMFADevice",
            "DeleteVirtualMFADevice",
            "ListAccessKeys",
            "DeleteAccessKey",
            "GetAccessKeyLastUsed",
            "ListSigningCertificates",
            "DeleteSigningCertificate",
            "GetLoginProfile",
            "DeleteLoginProfile",
        )
    ),
    "IAMAuditRootUserCredentials": frozenset(
        "iam:" + a
        for a in (
            "GetAccessKeyLastUsed",
            "GetLoginProfile",
            "GetUser",
            "ListAccessKeys",
            "ListMFADevices",
            "ListSigningCertificates",
        )
    ),
    "IAMCreateRootUserPassword": frozenset({"iam:CreateLoginProfile", "iam:GetLoginProfile"}),
    "S3UnlockBucketPolicy": frozenset(
        {"s3:DeleteBucketPolicy", "s3:GetBucketPolicy", "s3:ListAllMyBuckets"}
    ),
    "SQSUnlockQueuePolicy": frozenset(
        {"sqs:GetQueueAttributes", "sqs:ListQueues", "sqs:SetQueueAttributes"}
    ),
}
TASK_POLICY_ARN_RE = re.compile(r"arn:(aws|aws-cn|aws-us-gov):iam::aws:policy/root-task/([A-Za-z0-9]+)")
ROOT_PRINCIPAL_RE = re.compile(r"arn:(aws|aws-cn|aws-us-gov):iam::([0-9]{12}):root")
ORGANIZATION_ID_RE = re.compile(r"o-[a-z0-9]{10,32}")


def _org_role(account: str) -> str | None:
    """The account's place in the bench's organization: management, delegated, member, or None."""
    org = STATE.organization
    if org is None:
        return None
    if account == org["management"]:
        return "management"
    if account == org.get("delegated_admin"):
        return "delegated"
    if account in org["members"]:
        return "member"
    return None


def _enabled_features(org: dict[str, Any]) -> list[str]:
    return [f for f in ROOT_FEATURES if org["features"].get(f)]


def _org_checks(account: str, management_only: bool = False) -> dict[str, Any]:
    """IAM's checks for the centralized root access calls, in the order the bench applies them.

    The error codes are the ones IAM's API reference lists for these calls (HTTP 400)."""
    org = STATE.organization
    role = _org_role(account)
    if org is None or role is None:
        raise _svc_error(
            "OrganizationNotFoundException",
            "The request was rejected because no organization is associated with your account.",
        )
    if not org["all_features"]:
        raise _svc_error(
            "OrganizationNotInAllFeaturesModeException",
            "The request was rejected because your organization does not have All features enabled.",
        )
    if role not in ("management", "delegated"):
        raise _svc_error(
            "AccountNotManagementOrDelegatedAdministratorException",
            "The request was rejected because the account making the request is not the "
            "management account or delegated administrator account for centralized root access.",
        )
    if management_only and role != "management":
        raise _svc_error(
            "CallerIsNotManagementAccountException",
            "The request was rejected because the account making the request is not the "
            "management account for the organization.",
        )
    if not org["trusted_access"]:
        raise _svc_error(
            "ServiceAccessNotEnabledException",
            "The request was rejected because trusted access is not enabled for IAM in Organizations.",
        )
    return org


def _features_result(org: dict[str, Any]) -> Any:
    from moto.core.responses import ActionResult

    return ActionResult({"OrganizationId": org["id"], "EnabledFeatures": _enabled_features(org)})


def _list_organizations_features(self: Any) -> Any:
    with STATE.lock:
        return _features_result(_org_checks(self.current_account))


def _set_feature(self: Any, feature: str, on: bool) -> Any:
    with STATE.lock:
        org = _org_checks(self.current_account, management_only=on)
        org["features"][feature] = on
        return _features_result(org)


def _enable_root_credentials_management(self: Any) -> Any:
    return _set_feature(self, "RootCredentialsManagement", True)


def _enable_root_sessions(self: Any) -> Any:
    return _set_feature(self, "RootSessions", True)


def _disable_root_credentials_management(self: Any) -> Any:
    return _set_feature(self, "RootCredentialsManagement", False)


def _disable_root_sessions(self: Any) -> Any:
    return _set_feature(self, "RootSessions", False)


def _form(environ: dict[str, Any], body: bytes) -> dict[str, str]:
    """A query-protocol request's parameters (query string and form body), first value each."""
    params = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    if body and environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        params.update({k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()})
    return params


def _caller_arn(access_key: str | None, account: str) -> str:
    """The caller's ARN for an error message, as moto's GetCallerIdentity would say it."""
    if access_key:
        try:
            user = _iam_backend(account).get_user_from_access_key_id(access_key)
            if user is not None:
                return user.arn
        except Exception:
            pass
        if access_key in STATE.root_keys or access_key in STATE.root_sessions:
            return f"arn:aws:iam::{account}:root"
    return f"arn:aws:sts::{account}:user/moto"


class ApiError(Exception):
    """An AWS error answer the bench makes itself (outside moto's handlers)."""

    def __init__(self, code: str, message: str, status: int) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _sts_validation(param: str, value: Any, constraint: str) -> ApiError:
    return ApiError(
        "ValidationError",
        f"1 validation error detected: Value '{value}' at '{param}' failed to satisfy constraint: "
        f"{constraint}",
        400,
    )


def assume_root(form: dict[str, str], access_key: str | None, account: str) -> bytes:
    """sts:AssumeRoot: checks, then a root session on the member account. Raises ApiError.

    Order: parameter validation (ValidationError), root callers, then the organization: every
    refusal there is AccessDenied (403), as AWS answers an AssumeRoot its policies and the
    organization do not allow; IAM's ListOrganizationsFeatures then tells why.
    """
    target = form.get("TargetPrincipal")
    if not target:
        raise _sts_validation("targetPrincipal", None, "Member must not be null")
    if not 12 <= len(target) <= 2048:
        raise _sts_validation(
            "targetPrincipal", target, "Member must have length greater than or equal to 12"
        )
    task_arn = form.get("TaskPolicyArn.arn")
    if not task_arn:
        raise _sts_validation("taskPolicyArn", None, "Member must not be null")
    duration_text = form.get("DurationSeconds", str(ROOT_SESSION_MAX_SECONDS))
    try:
        duration = int(duration_text)
    except ValueError:
        raise _sts_validation("durationSeconds", duration_text, "Member must be an integer") from None
    if duration > ROOT_SESSION_MAX_SECONDS:
        raise _sts_validation(
            "durationSeconds",
            duration,
            f"Member must have value less than or equal to {ROOT_SESSION_MAX_SECONDS}",
        )
    if duration < 0:
        raise _sts_validation(
            "durationSeconds", duration, "Member must have value greater than or equal to 0"
        )
    task = TASK_POLICY_ARN_RE.fullmatch(task_arn)
    if task is None or task.group(2) not in ROOT_TASK_POLICIES:
        raise ApiError(
            "ValidationError",
            f"TaskPolicyArn {task_arn} is not one of the root task policies: "
            + ", ".join(f"arn:aws:iam::aws:policy/root-task/{n}" for n in ROOT_TASK_POLICIES),
            400,
        )
    principal = ROOT_PRINCIPAL_RE.fullmatch(target)
    if principal is not None:
        member = principal.group(2)
    elif re.fullmatch(r"[0-9]{12}", target):
        member = target
    else:
        raise ApiError(
            "ValidationError",
            f"TargetPrincipal {target} is neither an account id nor a root user ARN",
            400,
        )
    caller = _caller_arn(access_key, account)
    denied = ApiError(
        "AccessDenied",
        f"User: {caller} is not authorized to perform: sts:AssumeRoot on resource: "
        f"arn:aws:iam::{member}:root",
        403,
    )
    with STATE.lock:
        if access_key in STATE.root_keys or access_key in STATE.root_sessions:
            raise ApiError(
                "AccessDenied", "AssumeRoot cannot be called with root user credentials.", 403
            )
        org = STATE.organization
        role = _org_role(account)
        if org is None or role not in ("management", "delegated"):
            raise denied
        if not (org["all_features"] and org["trusted_access"] and org["features"]["RootSessions"]):
            raise denied
        if member not in org["members"] or member == account:
            raise denied
        key = access_key_for_account(member, prefix="ASIA")[:13] + "".join(
            B32_ALPHABET[b % 32] for b in os.urandom(7)
        )
        secret = base64.b64encode(os.urandom(30)).decode()
        token = base64.b64encode(os.urandom(240)).decode()
        expires = server_time() + duration
        STATE.root_sessions[key] = RootSession(
            account=member,
            caller_account=account,
            task_policy=task.group(2),
            task_policy_arn=task_arn,
            duration_s=duration,
            expires=expires,
            session_token=token,
        )
    expiration = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires))
    return (
        f'<AssumeRootResponse xmlns="{_NAMESPACES["sts"]}"><AssumeRootResult><Credentials>'
        f"<AccessKeyId>{key}</AccessKeyId><SecretAccessKey>{secret}</SecretAccessKey>"
        f"<SessionToken>{token}</SessionToken><Expiration>{expiration}</Expiration>"
        f"</Credentials></AssumeRootResult><ResponseMetadata><RequestId>{uuid.uuid4()}"
        f"</RequestId></ResponseMetadata></AssumeRootResponse>"
    ).encode()


def root_session_refusal(
    environ: dict[str, Any], service: str, action: str, access_key: str, form: dict[str, str]
) -> ApiError | None:
    """Why a request signed with a root session's key is refused, or None if it may go on.

    The session token must be the one issued with the key (InvalidClientTokenId otherwise, as
    AWS answers a temporary key without its token), the session must not have expired
    (ExpiredToken), and the action must be in the task policy, on the root user itself: an
    IAM call naming a UserName is outside the policy's resources (AccessDenied).
    """
    session = STATE.root_sessions[access_key]
    token = environ.get("HTTP_X_AMZ_SECURITY_TOKEN") or form.get("X-Amz-Security-Token")
    if token is None or not hmac.compare_digest(token, session.session_token):
        return ApiError(
            "InvalidClientTokenId", "The security token included in the request is invalid.", 403
        )
    if server_time() >= session.expires:
        return ApiError("ExpiredToken", "The security token included in the request is expired", 400)
    if (service, action) == ("sts", "GetCallerIdentity"):
        return None
    arn = f"arn:aws:iam::{session.account}:root"
    name = f"{service}:{action}"
    if name not in ROOT_TASK_POLICIES[session.task_policy]:
        return ApiError(
            "AccessDenied",
            f"User: {arn} is not authorized to perform: {name} on resource: {arn} because no "
            f"session policy allows the {name} action",
            403,
        )
    user = form.get("UserName")
    if service == "iam" and user:
        return ApiError(
            "AccessDenied",
            f"User: {arn} is not authorized to perform: {name} on resource: "
            f"arn:aws:iam::{session.account}:user/{user} because no session policy allows the "
            f"{name} action",
            403,
        )
    return None


# --------------------------------------------------------------------------------------------
# AWS Organizations (ListAccounts, DescribeOrganization) and AssumeRole into member accounts.
# --------------------------------------------------------------------------------------------

ORGANIZATIONS_PAGE_MAX = 20
ACCOUNT_STATES = ("ACTIVE", "SUSPENDED", "PENDING_CLOSURE")


class OrganizationsError(Exception):
    """An Organizations (JSON protocol) error answer: {"__type": code, "message": ...}."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def _json_form(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _org_accounts(org: dict[str, Any]) -> list[str]:
    """The management account, then the members, in id order."""
    return [org["management"]] + sorted(m for m in org["members"] if m != org["management"])


def _account_entry(org: dict[str, Any], account: str) -> dict[str, Any]:
    meta = org.get("accounts", {}).get(account, {})
    name = meta.get("name") or ("management" if account == org["management"] else f"member-{account}")
    state = meta.get("status", "ACTIVE")
    joined = meta.get("joined", 1577836800.0)
    return {
        "Id": account,
        "Arn": f"arn:aws:organizations::{org['management']}:account/{org['id']}/{account}",
        "Email": meta.get("email") or f"aws+{account}@example.com",
        "Name": name,
        "Status": state,
        "State": state,
        "JoinedMethod": "INVITED" if account == org["management"] else "CREATED",
        "JoinedTimestamp": joined,
    }


def _organizations_caller(account: str, management_or_delegated: bool = True) -> dict[str, Any]:
    org = STATE.organization
    role = _org_role(account)
    if org is None or role is None:
        raise OrganizationsError(
            "AWSOrganizationsNotInUseException",
            "Your account is not a member of an organization.",
        )
    if management_or_delegated and role not in ("management", "delegated"):
        raise OrganizationsError(
            "AccessDeniedException",
            "You don't have permissions to access this resource.",
        )
    return org


def organizations_api(action: str, form: dict[str, Any], account: str) -> bytes:
    """The Organizations calls an organization-wide audit makes, from the bench's organization.

    ListAccounts: the management account and every member (ACTIVE, SUSPENDED or PENDING_CLOSURE,
    in `Status` and its successor `State`), MaxResults 1-20 (default 20) with an opaque NextToken.
    Only the management account and the delegated administrator may call it (AccessDenied
    otherwise, AWSOrganizationsNotInUse outside the organization). DescribeOrganization: any
    account of the organization.
    """
    with STATE.lock:
        if action == "DescribeOrganization":
            org = _organizations_caller(account, management_or_delegated=False)
            management = org["management"]
            return json.dumps({"Organization": {
                "Id": org["id"],
                "Arn": f"arn:aws:organizations::{management}:organization/{org['id']}",
                "FeatureSet": "ALL" if org["all_features"] else "CONSOLIDATED_BILLING",
                "MasterAccountArn": f"arn:aws:organizations::{management}:account/{org['id']}/{management}",
                "MasterAccountId": management,
                "MasterAccountEmail": f"aws+{management}@example.com",
            }}).encode()
        if action == "ListAccounts":
            org = _organizations_caller(account)
            max_results = form.get("MaxResults", ORGANIZATIONS_PAGE_MAX)
            if not isinstance(max_results, int) or not 1 <= max_results <= ORGANIZATIONS_PAGE_MAX:
                raise OrganizationsError(
                    "InvalidInputException",
                    f"MaxResults must be between 1 and {ORGANIZATIONS_PAGE_MAX}.",
                )
            token = form.get("NextToken")
            start = 0
            if token is not None:
                try:
                    start = int(base64.b64decode(str(token)).decode().removeprefix("bench-accounts:"))
                except (ValueError, binascii.Error):
                    raise OrganizationsError(
                        "InvalidInputException", "The NextToken is not valid."
                    ) from None
            ids = _org_accounts(org)
            page = ids[start:start + max_results]
            out: dict[str, Any] = {"Accounts": [_account_entry(org, a) for a in page]}
            if start + max_results < len(ids):
                out["NextToken"] = base64.b64encode(
                    f"bench-accounts:{start + max_results}".encode()
                ).decode()
            return json.dumps(out).encode()
    raise OrganizationsError(
        "UnsupportedAPIEndpointException", f"The bench does not serve organizations:{action}."
    )


def _slow_target(account: str) -> None:
    """Bench-only fault: an account whose sessions never come (AssumeRole and AssumeRoot into it
    answer after `timeouts[account]` ms, long after a client gave up)."""
    with STATE.lock:
        org = STATE.organization
        delay = (org or {}).get("timeouts", {}).get(account, 0)
    if delay:
        time.sleep(delay / 1000.0)


def assume_role_check(form: dict[str, str], access_key: str | None, account: str) -> None:
    """sts:AssumeRole into an account of the bench's organization: the target's `role_denied`
    refuses it (AccessDenied, as a role whose trust policy does not name the caller), `timeouts`
    delays it, and with `role_name` set only that role exists in the members. Other calls go
    to moto unchanged."""
    arn = form.get("RoleArn", "")
    fields = arn.split(":")
    if len(fields) < 6:
        return
    target = fields[4]
    _slow_target(target)
    with STATE.lock:
        org = STATE.organization
        if org is None or _org_role(target) is None:
            return
        name = fields[5].rsplit("/", 1)[-1]
        expected = org.get("role_name")
        if target in org.get("role_denied", []) or (expected and name != expected
                                                       and target != org["management"]):
            caller = _caller_arn(access_key, account)
            raise ApiError(
                "AccessDenied",
                f"User: {caller} is not authorized to perform: sts:AssumeRole on resource: {arn}",
                403,
            )


# The root and user cases a generated organization cycles through (see r_organization_generate).
ROOT_CASES = ("fido", "hardware", "virtual-on-token", "no-mfa", "deleted", "virtual")
SPECIAL_CASES = ("role-denied", "timeout", "suspended")
BASELINE_POLICY = dict(
    allow_change_password=True, hard_expiry=None, max_password_age=None,
    minimum_password_length=14, password_reuse_prevention=24, require_lowercase_characters=True,
    require_numbers=True, require_symbols=True, require_uppercase_characters=True,
)


def _bench_virtual_device(backend: Any, name: str, tags: list[dict[str, str]] | None = None) -> Any:
    device = backend.create_virtual_mfa_device(name, "/")
    ext(device)["tags"] = list(tags or [])
    STATE.issued_seeds.append(device.base32_string_seed)
    return device


def _generate_account(account: str, root_case: str, user_case: int) -> dict[str, Any]:
    """One member's IAM state, made directly in moto's backend (no API call is logged)."""
    backend = _iam_backend(account)
    STATE.root.pop(account, None)
    entry = STATE.root.setdefault(account, {})
    root: dict[str, Any] = {"case": root_case}
    if root_case in ("fido", "hardware"):
        entry["hardware_devices"] = [_root_hardware_device(account, root_case, "root-key")]
    elif root_case in ("virtual", "virtual-on-token"):
        tags = []
        if root_case == "virtual-on-token":
            tags = [{"Key": "ykmfa:token-serial", "Value": str(10000000 + int(account) % 9000000)},
                    {"Key": "ykmfa:token-kind", "Value": "YubiKey"},
                    {"Key": "ykmfa:credential", "Value": f"AWS:root@{account}"}]
        device = _bench_virtual_device(backend, "root-mfa", tags)
        _assign_root(device, account)
    if root_case == "deleted":
        _delete_root_credentials(account)
    backend.update_account_password_policy(**BASELINE_POLICY)
    users = []
    # Every account: an admin with two devices and a console password (no finding).
    specs = [("ops-admin", True, 2)]
    if user_case % 3 == 0:
        specs.append(("dev-console", True, 0))  # console-without-mfa (high)
    elif user_case % 3 == 1:
        specs += [("ci-bot", False, 0), ("solo", True, 1)]  # no finding; single-mfa-device (low)
    for name, console, devices in specs:
        backend.create_user("us-east-1", name)
        if console:
            backend.create_login_profile(name, "Bench-pass-1234!")
        for i in range(devices):
            device = _bench_virtual_device(backend, f"{name}-{i}")
            backend.enable_mfa_device(name, device.serial_number, "000000", "000001")
        users.append({"name": name, "console": console, "devices": devices})
    return {"root": root, "users": users}


def r_organization_generate(app: BenchApp, request: Any, payload: dict[str, Any]) -> tuple[int, Any]:
    """An organization of `accounts` accounts (the management account and accounts-1 members,
    at least 10) with centralized root access on, every case of an organization-wide audit, and
    the role `role` (default OrganizationAccountAccessRole) in every member:

    - members cycle through ROOT_CASES for their root user (FIDO key, hardware TOTP, a virtual
      device tagged as held on a token by ykmfa, no MFA with a console password, credentials
      deleted centrally, a plain virtual device), and through three user mixes (a console user
      without MFA; a user without console or MFA and one with a single device; neither);
    - the last three members are special, each with a root without MFA: `role-denied` (AssumeRole
      into it is refused: root is still read through AssumeRoot),
      `timeout` (AssumeRole and AssumeRoot into it answer after `timeout_ms`, default 60000),
      `suspended` (ListAccounts says SUSPENDED);
    - the management account: root on a hardware token, the admin user only.

    Wipes every account's state first. Answers the organization and, per account, its case.
    """
    count = payload.get("accounts", 10)
    if not isinstance(count, int) or isinstance(count, bool) or not 10 <= count <= 5000:
        raise BenchError(400, "accounts must be a number from 10 to 5000")
    role = payload.get("role", "OrganizationAccountAccessRole")
    timeout_ms = payload.get("timeout_ms", 60000)
    if not isinstance(role, str) or not isinstance(timeout_ms, int):
        raise BenchError(400, "role is a role name, timeout_ms a number of milliseconds")
    from moto.moto_api._internal.models import moto_api_backend

    with STATE.lock:
        moto_api_backend.reset()
        STATE.reset(keep_config=True)
    base = int(payload.get("first_account", 100000000000))
    management = f"{base:012d}"
    members = [f"{base + i:012d}" for i in range(1, count)]
    special = dict(zip(SPECIAL_CASES, members[-3:]))
    out = []
    with STATE.lock:
        accounts_meta: dict[str, dict[str, Any]] = {}
        result = _generate_account(management, "hardware", 2)
        out.append({"id": management, "management": True, "special": None, **result})
        accounts_meta[management] = {"name": "management"}
        for i, account in enumerate(members):
            case = next((c for c, a in special.items() if a == account), None)
            # The special accounts' roots have no MFA: only the reachable one needs a person.
            root_case = "no-mfa" if case else ROOT_CASES[i % len(ROOT_CASES)]
            result = _generate_account(account, root_case, i)
            accounts_meta[account] = {"name": case or f"member-{i + 1:04d}"}
            if case == "suspended":
                accounts_meta[account]["status"] = "SUSPENDED"
            out.append({"id": account, "management": False, "special": case, **result})
        STATE.organization = {
            "id": "o-benchorg01",
            "management": management,
            "members": members,
            "delegated_admin": None,
            "all_features": True,
            "trusted_access": True,
            "features": {f: True for f in ROOT_FEATURES},
            "accounts": accounts_meta,
            "role_name": role,
            "role_denied": [special["role-denied"]],
            "timeouts": {special["timeout"]: timeout_ms},
        }
        view = _organization_view()
    return 200, {**view, "accounts": out,
                 "management_access_key_id": access_key_for_account(management)}


# --------------------------------------------------------------------------------------------
# WSGI middleware: bench endpoints, account selection, faults, call log.
# --------------------------------------------------------------------------------------------

_AUTH_KEY_RE = re.compile(r"Credential=([^/,\s]+)/[^/]*/([^/]*)/([^/]*)/")
_NAMESPACES = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
}
_DEFAULT_STATUS = {
    "AccessDenied": 403,
    "AccessDeniedException": 403,
    "Throttling": 400,
    "ThrottlingException": 400,
    "RequestExpired": 400,
    "InvalidClientTokenId": 403,
    "SignatureDoesNotMatch": 403,
    "ExpiredToken": 400,
}


def _model_status(code: str) -> int | None:
    """HTTP status IAM's published model gives an error code (e.g. NoSuchEntity 404)."""
    try:
        import botocore.session

        model = botocore.session.get_session().get_service_model("iam")
        for shape in model.error_shapes:
            meta = shape.metadata.get("error", {})
            if meta.get("code", shape.name) == code:
                return int(meta.get("httpStatusCode", 400))
    except Exception:
        return None
    return None


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _error_body(service: str, code: str, message: str, status: int, request_id: str) -> bytes:
    fault_type = "Receiver" if status >= 500 else "Sender"
    namespace = _NAMESPACES.get(service, _NAMESPACES["iam"])
    return (
        f'<ErrorResponse xmlns="{namespace}"><Error><Type>{fault_type}</Type>'
        f"<Code>{_xml_escape(code)}</Code><Message>{_xml_escape(message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()


def _error_code(body: bytes) -> str | None:
    """The <Code> of an AWS query error response."""
    match = re.search(rb"<Code>([^<]*)</Code>", body)
    return match.group(1).decode("utf-8", "replace") if match else None


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > 0:
        body = environ["wsgi.input"].read(length)
    elif environ.get("wsgi.input_terminated"):  # chunked request: the server ends the stream
        body = environ["wsgi.input"].read()
    else:
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


def _identify(environ: dict[str, Any], body: bytes) -> tuple[str, str, str | None]:
    """(service, action, access key id) of an AWS API request, without keeping any parameter."""
    action = ""
    service = ""
    access_key = None
    auth = environ.get("HTTP_AUTHORIZATION", "")
    match = _AUTH_KEY_RE.search(auth)
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if match:
        access_key, service = match.group(1), match.group(3)
    elif query.get("X-Amz-Credential"):
        parts = query["X-Amz-Credential"][0].split("/")
        access_key = parts[0]
        service = parts[3] if len(parts) > 3 else ""
    if query.get("Action"):
        action = query["Action"][0]
    elif body and environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        form = parse_qs(body.decode("utf-8", "replace"))
        action = form.get("Action", [""])[0]
    if not action:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        action = target.split(".")[-1] if target else ""
    return service or "unknown", action or "unknown", access_key


def _select_account(environ: dict[str, Any], access_key: str | None) -> str:
    """Choose the account for a request and tell moto through its x-moto-account-id header.

    Order: MOTO_ACCOUNT_ID (moto's own override), an explicit x-moto-account-id header, a key moto
    issued itself (CreateAccessKey, AssumeRole), a root key registered with /_bench/root, a key id
    that encodes an account the AWS way, else the default account.
    """
    if os.environ.get("MOTO_ACCOUNT_ID"):
        return os.environ["MOTO_ACCOUNT_ID"]
    if environ.get("HTTP_X_MOTO_ACCOUNT_ID"):
        return environ["HTTP_X_MOTO_ACCOUNT_ID"]
    if not access_key:
        return DEFAULT_ACCOUNT
    session = STATE.root_sessions.get(access_key)
    if session is not None:
        environ["HTTP_X_MOTO_ACCOUNT_ID"] = session.account
        return session.account
    known = moto_account_for_key(access_key)
    if known is not None:
        return known
    account = STATE.root_keys.get(access_key) or account_from_access_key(access_key)
    if account is not None:
        environ["HTTP_X_MOTO_ACCOUNT_ID"] = account
        return account
    return DEFAULT_ACCOUNT


def _replace_element(body: bytes, field: str, value: str | None) -> bytes:
    """Drop every <field>...</field> (value None) or set its text."""
    name = re.escape(field.encode())
    pattern = re.compile(rb"<" + name + rb"(?:\s[^>]*)?(?:/>|>.*?</" + name + rb">)", re.S)
    if value is None:
        return pattern.sub(b"", body)
    replacement = b"<" + field.encode() + b">" + _xml_escape(value).encode() + b"</" + field.encode() + b">"
    return pattern.sub(lambda _m: replacement, body)


class BenchApp:
    """WSGI app: /_bench/* endpoints, then moto for everything else (with faults and a call log)."""

    def __init__(self, inner: Callable[..., Iterable[bytes]]) -> None:
        self.inner = inner
        # Late writes: a thread lands those due by time (land_after_secs), even with no request.
        self._wake = threading.Event()
        self._lander: threading.Thread | None = None
        self._lander_lock = threading.Lock()

    # ---- plumbing ----

    def _call_inner(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
        captured: dict[str, Any] = {}
        chunks: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"] = status
            captured["headers"] = list(headers)
            return chunks.append

        result = self.inner(environ, start_response)
        try:
            for chunk in result:
                chunks.append(chunk)
        finally:
            close = getattr(result, "close", None)
            if close:
                close()
        return captured.get("status", "500 INTERNAL SERVER ERROR"), captured.get("headers", []), b"".join(chunks)

    @staticmethod
    def _send(
        start_response: Any, status: str, headers: list[tuple[str, str]], body: bytes
    ) -> list[bytes]:
        # Date comes from the request handler (QuietHandler.date_time_string: server clock).
        drop = {"content-length", "date"}
        out = [(k, v) for k, v in headers if k.lower() not in drop]
        out.append(("Content-Length", str(len(body))))
        start_response(status, out)
        return [body]

    # ---- dispatch ----

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/_bench" or path.startswith("/_bench/"):
            return self.bench(environ, start_response)
        if path.startswith("/moto-api") or path == "/favicon.ico":
            if path.startswith("/moto-api/reset") and environ.get("REQUEST_METHOD") == "POST":
                STATE.reset(keep_config=True)
            return self.inner(environ, start_response)
        return self.api(environ, start_response)

    def api(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        started = time.time()
        t0 = time.monotonic()
        at_step = current_step()
        self.land_due()  # late writes whose time has come land before this request is served
        with STATE.lock:
            STATE.arrivals += 1
            arrival = STATE.arrivals
        body = _read_body(environ)
        service, action, access_key = _identify(environ, body)
        in_session = access_key is not None and access_key in STATE.root_sessions
        # Only AssumeRoot and root sessions need parameters here; they are not kept or logged.
        if service == "organizations":
            form = _json_form(body)
        elif in_session or action in ("AssumeRoot", "AssumeRole"):
            form = _form(environ, body)
        else:
            form = {}
        del body  # parameters (codes, names) are not kept
        account = _select_account(environ, access_key)
        fault = STATE.take_fault(action, service, account)

        if fault is not None and fault.delay_ms > 0:
            time.sleep(fault.delay_ms / 1000.0)

        request_id = uuid.uuid4().hex
        late = None
        if fault is not None and fault.kind == "late":
            # The write is not done now: it is kept, to land later (land_due); the caller gets
            # an error, or (answer "timeout") no answer at all.
            late = self._late_request(
                fault, environ, service, action, access_key, account, form, in_session, at_step
            )
            if fault.answer == "timeout":
                self._drop(environ, late, started, t0, service, action, account, arrival)
            status_code, headers, out = self._fault_error(fault, service, action, account, request_id)
        elif fault is not None and fault.kind == "error" and fault.when == "before":
            status_code, headers, out = self._fault_error(fault, service, action, account, request_id)
        else:
            status_code, headers, out = self._answer(
                environ, service, action, access_key, account, form, request_id, in_session
            )
            if fault is not None:
                status_code, headers, out = self._apply_fault(
                    fault, service, action, account, request_id, status_code, headers, out
                )
        reason = _reason(status_code)
        response = self._send(start_response, f"{status_code} {reason}", headers, out)

        entry = {
            "time": started,
            "service": service,
            "action": action,
            "status": status_code,
            "account": account,
            "duration_ms": round((time.monotonic() - t0) * 1000.0, 1),
            "fault": fault.kind if fault is not None else None,
        }
        if late is not None:
            entry["late_write_id"] = late.id
        STATE.record_call(entry)
        if STATE.verbose:
            suffix = f" [fault {fault.kind}]" if fault is not None else ""
            print(
                f"strict-iam: {account} {service} {action} -> {status_code} "
                f"({entry['duration_ms']} ms){suffix}",
                file=sys.stderr,
                flush=True,
            )
        if late is not None:
            self._queue(late)
        self._count_request(account, arrival)
        return response

    # ---- late writes (fault kind "late") ----

    def _late_request(
        self,
        fault: Fault,
        environ: dict[str, Any],
        service: str,
        action: str,
        access_key: str | None,
        account: str,
        form: dict[str, str],
        in_session: bool,
        at_step: int,
    ) -> LateWrite:
        """Keep the request (in memory only, until it lands) instead of doing it now."""
        body = environ["wsgi.input"].getvalue()
        params = _form(environ, body)
        serial = params.get("SerialNumber")
        if action == "CreateVirtualMFADevice":
            name = params.get("VirtualMFADeviceName")
            path = params.get("Path") or "/"
            serial = f"arn:aws:iam::{account}:mfa{path}{name}" if name else None
        del params  # codes and tags: only the kept request below has them
        refusal = None
        if in_session and access_key is not None:
            # A root session's checks apply when the request arrives, as its signature does.
            err = root_session_refusal(environ, service, action, access_key, form)
            if err is not None:
                refusal = (err.status, err.code)
        kept = {k: v for k, v in environ.items() if k not in ("werkzeug.socket", "werkzeug.request")}
        with STATE.lock:
            late_id = STATE.next_late_id
            STATE.next_late_id += 1
        return LateWrite(
            id=late_id,
            fault_id=fault.id,
            action=action,
            service=service,
            account=account,
            serial=serial,
            answer=fault.answer,
            environ=kept,
            body=body,
            at_step=at_step,
            arrival_mark=0,
            queued=0.0,
            due=None,
            calls_left=None,
            land_after_secs=fault.land_after_secs,
            land_after_calls=fault.land_after_calls,
            refusal=refusal,
        )

    def _drop(
        self,
        environ: dict[str, Any],
        late: LateWrite,
        started: float,
        t0: float,
        service: str,
        action: str,
        account: str,
        arrival: int,
    ) -> None:
        """answer "timeout": the request was held (delay_ms); close the connection unanswered."""
        entry = {
            "time": started,
            "service": service,
            "action": action,
            "status": None,
            "account": account,
            "duration_ms": round((time.monotonic() - t0) * 1000.0, 1),
            "fault": "late",
            "late_write_id": late.id,
        }
        STATE.record_call(entry)
        if STATE.verbose:
            print(
                f"strict-iam: {account} {service} {action} -> no answer "
                f"({entry['duration_ms']} ms) [fault late]",
                file=sys.stderr,
                flush=True,
            )
        self._queue(late)
        self._count_request(account, arrival)
        conn = environ.get("werkzeug.socket")
        if conn is not None:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        # werkzeug treats a ConnectionError as a dropped connection: nothing is sent or logged.
        raise ConnectionAbortedError("strict-iam: late write, no answer")

    def _queue(self, late: LateWrite) -> None:
        with STATE.lock:
            late.arrival_mark = STATE.arrivals
            late.queued = server_time()
            if late.land_after_secs is not None:
                late.due = time.monotonic() + late.land_after_secs
            late.calls_left = late.land_after_calls
            STATE.late_writes.append(late)
        self._start_lander()
        self._wake.set()
        self.land_due()  # land_after_calls 0 or land_after_secs 0: at once

    def _count_request(self, account: str, arrival: int) -> None:
        """A request of `account` was answered: it counts for land_after_calls of the late
        writes queued before it arrived; those it completes land now, before it is sent."""
        with STATE.lock:
            for late in STATE.late_writes:
                if (
                    late.calls_left is not None
                    and late.calls_left > 0
                    and late.account == account
                    and arrival > late.arrival_mark
                ):
                    late.calls_left -= 1
        self.land_due()

    def land_due(self, force_id: int | None = None, force_all: bool = False) -> list[dict[str, Any]]:
        """Land the late writes that are due (or those forced), oldest first."""
        landed = []
        with STATE.lock:
            now = time.monotonic()
            due = [
                late
                for late in STATE.late_writes
                if force_all
                or late.id == force_id
                or (late.calls_left is not None and late.calls_left <= 0)
                or (late.due is not None and late.due <= now)
            ]
            for late in due:
                STATE.late_writes.remove(late)
                landed.append(self._land(late))
        return landed

    def _land(self, late: LateWrite) -> dict[str, Any]:
        """Do a late write now, with the checks the real call makes now (the request is replayed
        through the patched handlers; EnableMFADevice checks its codes at the step the request
        arrived). Call with STATE.lock. The response (a seed, for a create) is discarded."""
        t0 = time.monotonic()
        if late.refusal is not None:
            status, error = late.refusal
        else:
            environ = dict(late.environ or {})
            environ["wsgi.input"] = io.BytesIO(late.body)
            environ["CONTENT_LENGTH"] = str(len(late.body))
            _REPLAY.active, _REPLAY.at_step = True, late.at_step
            try:
                status_line, _headers, out = self._call_inner(environ)
                status = int(status_line.split(" ", 1)[0])
                error = None if status < 300 else _error_code(out)
                del out
            except Exception as err:  # a crash in moto: refused, and the bench goes on
                status, error = 500, type(err).__name__
            finally:
                _REPLAY.active, _REPLAY.at_step = False, None
        late.environ, late.body = None, b""  # the request (codes) is gone once landed
        outcome = "applied" if status < 300 else "refused"
        record = {
            "id": late.id,
            "fault_id": late.fault_id,
            "action": late.action,
            "account": late.account,
            "serial": late.serial,
            "answer": late.answer,
            "outcome": outcome,
            "error": error,
            "status": status,
            "queued": late.queued,
            "landed": server_time(),
        }
        STATE.landed.append(record)
        del STATE.landed[:-MAX_LANDED]
        entry = {
            "time": time.time(),
            "service": "bench",
            "action": "late-write",
            "status": status,
            "account": late.account,
            "duration_ms": round((time.monotonic() - t0) * 1000.0, 1),
            "fault": None,
            "late_write": {
                "id": late.id,
                "fault_id": late.fault_id,
                "action": late.action,
                "serial": late.serial,
                "outcome": outcome,
                "error": error,
            },
        }
        STATE.record_call(entry)
        if STATE.verbose:
            why = f" {error}" if error else ""
            print(
                f"strict-iam: {late.account} late-write {late.action} -> {outcome} "
                f"({status}{why})",
                file=sys.stderr,
                flush=True,
            )
        return record

    def _start_lander(self) -> None:
        with self._lander_lock:
            if self._lander is None or not self._lander.is_alive():
                self._lander = threading.Thread(
                    target=self._lander_loop, name="strict-iam-late-writes", daemon=True
                )
                self._lander.start()

    def _lander_loop(self) -> None:
        """Lands late writes when their land_after_secs pass, whether or not requests arrive."""
        while True:
            with STATE.lock:
                dues = [late.due for late in STATE.late_writes if late.due is not None]
            timeout = None if not dues else min(60.0, max(0.0, min(dues) - time.monotonic()))
            self._wake.wait(timeout)
            self._wake.clear()
            try:
                self.land_due()
            except Exception as err:  # never kill the thread
                print(f"strict-iam: landing a late write failed: {type(err).__name__}", file=sys.stderr)

    def _answer(
        self,
        environ: dict[str, Any],
        service: str,
        action: str,
        access_key: str | None,
        account: str,
        form: dict[str, str],
        request_id: str,
        in_session: bool,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """The bench's own answers (root sessions, AssumeRoot), else moto's."""
        try:
            if in_session and access_key is not None:
                refusal = root_session_refusal(environ, service, action, access_key, form)
                if refusal is not None:
                    raise refusal
            if (service, action) == ("sts", "AssumeRoot"):
                _slow_target(form.get("TargetPrincipal", "").split(":")[-1][:12])
                body = assume_root(form, access_key, account)
                return 200, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body
            if (service, action) == ("sts", "AssumeRole"):
                assume_role_check(form, access_key, account)
            if service == "organizations":
                body = organizations_api(action, form, account)
                headers = [("Content-Type", "application/x-amz-json-1.1"),
                           ("x-amzn-RequestId", request_id)]
                return 200, headers, body
        except OrganizationsError as err:
            body = json.dumps({"__type": err.code, "message": err.message}).encode()
            headers = [("Content-Type", "application/x-amz-json-1.1"),
                       ("x-amzn-RequestId", request_id), ("x-amzn-ErrorType", err.code)]
            return err.status, headers, body
        except ApiError as err:
            body = _error_body(service, err.code, err.message, err.status, request_id)
            return err.status, [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], body
        status_line, headers, out = self._call_inner(environ)
        return int(status_line.split(" ", 1)[0]), headers, out

    def _fault_error(
        self, fault: Fault, service: str, action: str, account: str, request_id: str
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        code = fault.code or "ServiceFailure"
        status = fault.status or _DEFAULT_STATUS.get(code) or _model_status(code) or 400
        message = fault.message or _default_message(code, service, action, account)
        if service == "organizations":  # a JSON-protocol service: its error shape
            body = json.dumps({"__type": code, "message": message}).encode()
            headers = [("Content-Type", "application/x-amz-json-1.1"),
                       ("x-amzn-RequestId", request_id), ("x-amzn-ErrorType", code)]
            return status, headers, body
        body = _error_body(service, code, message, status, request_id)
        headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
        return status, headers, body

    def _apply_fault(
        self,
        fault: Fault,
        service: str,
        action: str,
        account: str,
        request_id: str,
        status: int,
        headers: list[tuple[str, str]],
        body: bytes,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        if fault.kind == "error":  # when == "after": the operation ran, the caller sees an error
            return self._fault_error(fault, service, action, account, request_id)
        if fault.kind == "malformed":
            return status, headers, body[: max(1, len(body) // 2)] + b"<<"
        if fault.kind == "empty":
            return status, headers, b""
        if fault.kind == "drop_field" and fault.field:
            return status, headers, _replace_element(body, fault.field, None)
        if fault.kind == "replace_field" and fault.field:
            return status, headers, _replace_element(body, fault.field, fault.value or "")
        if fault.kind == "bad_seed":
            # Base32StringSeed is a blob on the wire (base64 of the Base32 text): keep the base64
            # valid so the SDK decodes it, and make the decoded text not Base32.
            raw = (fault.value or "0189!not-base32-seed!").encode()
            return status, headers, _replace_element(
                body, "Base32StringSeed", base64.b64encode(raw).decode()
            )
        return status, headers, body  # delay (already slept)

    # ---- /_bench endpoints ----

    def bench(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        from werkzeug.wrappers import Request

        request = Request(environ)
        route = request.path.rstrip("/")
        method = request.method
        try:
            payload: dict[str, Any] = {}
            if method in ("POST", "PUT", "DELETE") and request.get_data():
                parsed = json.loads(request.get_data(as_text=True))
                if not isinstance(parsed, dict):
                    raise BenchError(400, "JSON body must be an object")
                payload = parsed
            handler = _ROUTES.get((method, route))
            if handler is None:
                raise BenchError(404, f"no bench endpoint {method} {route}")
            status, data = handler(self, request, payload)
        except BenchError as err:
            status, data = err.status, {"error": err.message}
        except json.JSONDecodeError as err:
            status, data = 400, {"error": f"invalid JSON: {err}"}
        body = (json.dumps(data, indent=1, default=str) + "\n").encode()
        return self._send(
            start_response,
            f"{status} {_reason(status)}",
            [("Content-Type", "application/json")],
            body,
        )


class BenchError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _reason(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def _default_message(code: str, service: str, action: str, account: str) -> str:
    if code.startswith("AccessDenied"):
        return (
            f"User: arn:aws:iam::{account}:user/bench is not authorized to perform: "
            f"{service}:{action} because no identity-based policy allows the {service}:{action} action"
        )
    if code.startswith("Throttling"):
        return "Rate exceeded"
    return f"Injected fault {code} for {action}"


def _account_arg(request: Any, payload: dict[str, Any]) -> str:
    account = str(payload.get("account") or request.args.get("account") or DEFAULT_ACCOUNT)
    if not re.fullmatch(r"[0-9]{12}", account):
        raise BenchError(400, "account must be 12 digits")
    return account


def _device_from_serial(serial: Any, account: str | None = None) -> Any:
    """The virtual device an ARN names or, when `account` is given, also the hardware token a
    vendor serial names in that account."""
    if not isinstance(serial, str):
        raise BenchError(400, "serial (the device ARN) is required")
    if account is not None and is_hardware_serial(serial):
        token = hardware_tokens(_iam_backend(account)).get(serial)
        if token is None:
            raise BenchError(404, f"no hardware MFA token {serial} in account {account}")
        return token
    match = SERIAL_ARN_RE.fullmatch(serial)
    if not match:
        raise BenchError(400, "serial must be a virtual MFA device ARN")
    device = _iam_backend(match.group(2), match.group(1)).virtual_mfa_devices.get(serial)
    if device is None:
        raise BenchError(404, f"no virtual MFA device {serial}")
    return device


def _code_arg(payload: dict[str, Any], name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not CODE_RE.fullmatch(value):
        raise BenchError(400, f"{name} must be a string of 6 digits")
    return value


def r_health(app: BenchApp, request: Any, payload: dict[str, Any]) -> tuple[int, Any]:
    import moto

    return 200, {"ok": True, "moto": getattr(moto, "__version__", "?")}


def r_time(app: BenchApp, request: Any, payload: dict[str, Any]) -> tuple[int, Any]:
    now = server_time()
    return 200, {
        "time": now,
        "step": int(now // STEP_SECONDS),
        "seconds_into_step": now % STEP_SECONDS,
        "clock_offset_s": STATE.config.clock_offset_s,
    }


def r_reset(app: BenchApp, request: Any, payload: dict[str, Any]) -> tuple[int, Any]:
    from moto.moto_api._internal.models import moto_api_backend

    with STATE.lock:
        moto_api_backend.reset()
        STATE.reset(keep_config=bool(payload.get("keep_config")))
    return 200, {"reset": True}


def r_config_get(app: BenchApp, request: Any, payload: dict[str, Any]) -> tuple[int, Any]:
    return 200, asdict(STATE.config)


def r_config_set(app: BenchApp, request: Any, payload: dict[str, Any]) -> tuple[int, Any]:
    with STATE.lock:
        cfg = copy.deepcopy(STATE.config)
        for key, value in payload.items():
            if not hasattr(cfg, key):
                raise BenchError(400, f"unknown config key {key}")
            if key == "clock_offset_s":
                if not isinstance(value, (int, float)) or isinstance(value, bool):
                    raise BenchError(400, "clock_offset_s must be a number")
                value = float(value)
            elif key == "read_lag_s":
                if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                    raise BenchError(400, "read_lag_s must be a non-negative number of seconds")
                value = float(value)
            elif key == "read_lag_writes_not_found":
                if not isinstance(value, bool):
                    raise BenchError(400, "read_lag_writes_not_found must be true or false")
            else:
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    raise BenchError(400, f"{key} must be a non-negative integer")
            setattr(cfg, key, value)
        STATE.config = cfg
    return 200, asdict(STATE.config)


def r_faults_add(app: BenchApp, request: Any, payload: dict[str, Any]) -> tuple[int, Any]:
    action = payload.get("action")
    if not isinstance(action, str) or not action:
        raise BenchError(400, 'action is required (an API action name such as "EnableMFADevice", or "*")')
    kind = payload.get("kind") or ("error" if payload.get("code") else "delay")
    if kind not in FAULT_KINDS:
        raise BenchError(400, f"kind must be one of {', '.join(FAULT_KINDS)}")
    count = payload.get("count", 1)
    if count == "always":
        remaining = None
    elif isinstance(count, int) and not isinstance(count, bool) and count >= 1:
        remaining = count
    else:
        raise BenchError(400, 'count must be a positive integer or "always"')
    when = payload.get("when", "before")
    if when not in ("before", "after"):
        raise BenchError(400, 'when must be "before" or "after"')
    if kind == "error" and not payload.get("code"):
        raise BenchError(400, "code is required for kind=error")
    if kind in ("drop_field", "replace_field") and not payload.get("field"):
        raise BenchError(400, f"field is required for kind={kind}")
    delay_ms = payload.get("delay_ms", 0)
    if not isinstance(delay_ms, int) or delay_ms < 0:
        raise BenchError(400, "delay_ms must be a non-negative integer")
    if kind == "delay" and delay_ms == 0:
        raise BenchError(400, "delay_ms is required for kind=delay")
    status = payload.get("status")
    if status is not None and (not isinstance(status, int) or not 100 <= status <= 599):
        raise BenchError(400, "status must be an HTTP status code")
    skip = payload.get("skip", 0)
    if not isinstance(skip, int) or skip < 0:
        raise BenchError(400, "skip must be a non-negative integer")
    answer = payload.get("answer", "error")
    land_after_secs = payload.get("land_after_secs")
    land_after_calls = payload.get("land_after_calls")
    if kind == "late":
        if action not in LATE_WRITE_ACTIONS:
            raise BenchError(400, f"kind=late needs action one of {', '.join(LATE_WRITE_ACTIONS)}")
        if answer not in ("error", "timeout"):
            raise BenchError(400, 'answer must be "error" or "timeout"')
        if land_after_secs is not None:
            if not isinstance(land_after_secs, (int, float)) or isinstance(land_after_secs, bool) \
                    or land_after_secs < 0:
                raise BenchError(400, "land_after_secs must be a non-negative number")
            land_after_secs = float(land_after_secs)
        if land_after_calls is not None and (
            not isinstance(land_after_calls, int) or isinstance(land_after_calls, bool)
            or land_after_calls < 0
        ):
            raise BenchError(400, "land_after_calls must be a non-negative integer")
        if land_after_secs is None and land_after_calls is None:
            land_after_calls = 1
        if answer == "timeout" and delay_ms == 0:
            delay_ms = LATE_TIMEOUT_DEFAULT_MS
    else:
        given = [k for k in ("answer", "land_after_secs", "land_after_calls") if k in payload]
        if given:
            raise BenchError(400, f"{', '.join(given)}: only for kind=late")
    with STATE.lock:
        fault = Fault(
            id=STATE.next_fault_id,
            action=action,
            kind=kind,
            remaining=remaining,
            skip=skip,
            service=payload.get("service"),
            account=payload.get("account"),
            code=payload.get("code"),
            status=status,
            message=payload.get("message"),
            when=when,
            delay_ms=delay_ms,
            field=payload.get("field"),
            value=payload.get("value"),
            answer=answer,
            land_after_secs=land_after_secs,
            land_after_calls=land_after_calls,
        )
        STATE.next_fault_id += 1
        STATE.faults.append(fault)
    return 200, fault.public()


def r_faults_list(app: BenchApp, request: Any, payload: dict[str, Any]) -> tuple[int, Any]:
    with STATE.lock:
        return 200, {"faults": [f.public() for f in STATE.faults]}


def r_faults_clear(app: BenchApp, request: Any, payload: dict[str, Any]) -> tuple[int, Any]:
    action = payload.get("action") or request.args.get("action")
    fault_id = payload.get("id")
    with STATE.lock:
        before = len(STATE.faults)
        STATE.faults = [
            f
            for f in STATE.faults
            if not ((action is None or f.action == action) and (fault_id is None or f.id == fault_id))
        ]
        return 200, {"cleared": before - len(STATE.faults)}


def r_late_writes(app: BenchApp, request: Any, payload: dict[str, Any]) -> tuple[int, Any]:
    with STATE.lock:
        return 200, {
            "pending": [late.public() for late in STATE.late_writes],
            "landed": [dict(record) for record in STATE.landed],
        }


def r_late_writes_land(app: BenchApp, request: Any, payload: dict[str, Any]) -> tuple[int, Any]:
    """Land pending late writes now: all, or {"id": n}."""
    late_id = payload.get("id")
    if late_id is not None and (not isinstance(late_id, int) or isinstance(late_id, bool)):
        raise BenchError(400, "id must be an integer")
    return 200, {"landed": app.land_due(force_id=late_id, force_all=late_id is None)}


def r_late_writes_clear(app: BenchApp, request: Any, payload: dict[str, Any]) -> tuple[int, Any]:
    """Drop pending late writes without landing them: all, or {"id": n}."""
    late_id = payload.get("id")
    with STATE.lock:
        before = len(STATE.late_writes)
        STATE.late_writes = [w for w in STATE.late_writes if late_id is not None and w.id != late_id]
        return 200, {"cleared": before - len(STATE.late_writes)}


def r_calls(app: BenchApp, request: Any, payload: dict[str, Any]) -> tuple[int, Any]:
    action = request.args.get("action")
    service = request.args.get("service")
    since = request.args.get("since_seq", type=int)
    with STATE.lock:
        calls = [
            dict(c)
            for c in STATE.calls
            if (action is None or c["action"] == action)
            and (service is None or c["service"] == service)
            and (since is None or c["seq"] > since)
        ]
    return 200, {"calls": calls, "count": len(calls)}


def r_calls_reset(app: BenchApp, request: Any, payload: dict[str, Any]) -> tuple[int, Any]:
    with STATE.lock:
        STATE.calls.clear()
    return 200, {"reset": True}


def r_check_code(app: BenchApp, request: Any, payload: dict[str, Any]) -> tuple[int, Any]:
    dry_run = bool(payload.get("dry_run", False))
    with STATE.lock:
        device = _device_from_serial(payload.get("serial"), _account_arg(request, payload))
        if "code" in payload:
            result = check_single(device, _code_arg(payload, "code"))
            pair = False
        elif "code1" in payload or "code2" in payload:
            result = check_pair(device, _code_arg(payload, "code1"), _code_arg(payload, "code2"))
            pair = True
        else:
            raise BenchError(400, 'give "code" (a sign-in code) or "code1" and "code2" (a pair)')
        if result.accepted and not dry_run:
            commit_codes(device, result, pair=pair)
        return 200, result.public(device)


def r_device(app: BenchApp, request: Any, payload: dict[str, Any]) -> tuple[int, Any]:
    with STATE.lock:
        device = _device_from_serial(request.args.get("serial"), _account_arg(request, payload))
        state = ext(device)
        user = None
        if device.user is not None:
            user = device.user.name
        elif state["root"]:
            user = "root"
        return 200, {
            "serial": device.serial_number,
            "assigned": device_assigned(device),
            "user": user,
            "drift_steps": state["drift"],
            "last_used_step": state["last_step"],
            "tag_count": len(state["tags"]),
        }


def _hardware_token_view(token: HardwareToken) -> dict[str, Any]:
    return {
        "serial": token.serial_number,
        "seed": token.base32_string_seed,
        "assigned_to": token.user.name if token.user is not None else None,
    }


def r_hardware_tokens_get(app: BenchApp, request: Any, payload: dict[str, Any]) -> tuple[int, Any]:
    """Bench only: the account's hardware tokens with their seeds, as AWS holds them (a test
    reads the seed here the way a person reads the token's display)."""
    account = _account_arg(request, payload)
    with STATE.lock:
        tokens = hardware_tokens(_iam_backend(account)).values()
        return 200, {"tokens": [_hardware_token_view(t) for t in tokens]}


def r_hardware_tokens_add(app: BenchApp, request: Any, payload: dict[str, Any]) -> tuple[int, Any]:
    """Bench only: a token bought for this account (AWS learns its seed from the vendor)."""
    account = _account_arg(request, payload)
    serial, seed = payload.get("serial"), payload.get("seed")
    # The pattern has no ':', so an ARN never passes.
    if not isinstance(serial, str) or not HARDWARE_SERIAL_RE.fullmatch(serial):
        raise BenchError(400, "serial must be a vendor serial such as GAKT12345678 (not an ARN)")
    if not isinstance(seed, str):
        raise BenchError(400, "seed (Base32) is required")
    try:
        key = decode_seed(seed)
    except (binascii.Error, ValueError):
        raise BenchError(400, "seed must be Base32") from None
    if not key:
        raise BenchError(400, "seed must not be empty")
    with STATE.lock:
        table = hardware_tokens(_iam_backend(account))
        if serial in table:
            raise BenchError(409, f"hardware MFA token {serial} already exists in account {account}")
        # Kept as given, less spaces and padding, as the vendor's seed file writes it.
        token = HardwareToken(serial, seed.strip().replace(" ", "").upper().rstrip("="))
        table[serial] = token
        return 200, _hardware_token_view(token)


def r_issued_seeds(app: BenchApp, request: Any, payload: dict[str, Any]) -> tuple[int, Any]:
    """Bench only: the seeds issued so far, so tests can prove ykmfa's outputs never hold one."""
    with STATE.lock:
        return 200, {"seeds": list(STATE.issued_seeds)}


def r_root_get(app: BenchApp, request: Any, payload: dict[str, Any]) -> tuple[int, Any]:
    return 200, root_posture(_account_arg(request, payload))


def r_root_set(app: BenchApp, request: Any, payload: dict[str, Any]) -> tuple[int, Any]:
    account = _account_arg(request, payload)
    with STATE.lock:
        entry = STATE.root.setdefault(account, {})
        for serial in _list_arg(payload, "unassign_device"):
            device = _device_from_serial(serial)
            if not ext(device)["root"]:
                raise BenchError(409, f"{serial} is not assigned to root")
            _unassign_root(device)
        for serial in _list_arg(payload, "assign_device"):
            device = _device_from_serial(serial)
            if not serial.split(":")[4] == account:
                raise BenchError(400, f"{serial} is not in account {account}")
            if device_assigned(device):
                raise BenchError(409, f"{serial} is already assigned")
            if len(_root_devices(account)) >= STATE.config.max_devices_per_user:
                raise BenchError(409, "root already has the maximum number of MFA devices")
            if "code1" in payload or "code2" in payload:
                # Console-style enrollment: two consecutive codes, same rules as EnableMFADevice.
                result = check_pair(device, _code_arg(payload, "code1"), _code_arg(payload, "code2"))
                if not result.accepted:
                    raise BenchError(403, f"InvalidAuthenticationCode ({result.reason})")
                commit_codes(device, result, pair=True)
            _assign_root(device, account)
        for key in _list_arg(payload, "add_access_key_id"):
            STATE.root_keys[key] = account
        for key in _list_arg(payload, "remove_access_key_id"):
            STATE.root_keys.pop(key, None)
        for kind in ("hardware", "fido"):
            for name in _list_arg(payload, f"add_{kind}_device"):
                entry.setdefault("hardware_devices", []).append(
                    _root_hardware_device(account, kind, name)
                )
        for flag in ("password",):
            value = _flag(payload, flag)
            if value is not None:
                entry[flag] = value
                entry["credentials_deleted"] = False
        if "signing_certificates" in payload:
            count = payload["signing_certificates"]
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise BenchError(400, "signing_certificates must be a count (0 or more)")
            entry["signing_certificates"] = count
        if _flag(payload, "delete_credentials"):
            _delete_root_credentials(account)
        for flag in ("mfa_enabled", "access_keys_present"):
            if flag in payload:
                value = payload[flag]
                if value is not None and not isinstance(value, bool):
                    raise BenchError(400, f"{flag} must be true, false or null")
                entry[flag] = value
    return 200, root_posture(account)


def _list_arg(payload: dict[str, Any], name: str) -> list[str]:
    value = payload.get(name)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise BenchError(400, f"{name} must be a string or a list of strings")


def r_access_key(app: BenchApp, request: Any, payload: dict[str, Any]) -> tuple[int, Any]:
    account = _account_arg(request, payload)
    return 200, {
        "account": account,
        "access_key_id": access_key_for_account(account),
        "secret_access_key": "bench-secret-not-checked",
    }


def _organization_view() -> dict[str, Any]:
    org = STATE.organization
    if org is None:
        return {"organization": None}
    return {
        "organization": {
            "id": org["id"],
            "management": org["management"],
            "members": list(org["members"]),
            "delegated_admin": org.get("delegated_admin"),
            "all_features": org["all_features"],
            "trusted_access": org["trusted_access"],
            "enabled_features": _enabled_features(org),
            "suspended": sorted(a for a, m in org.get("accounts", {}).items()
                                if m.get("status") == "SUSPENDED"),
            "role_name": org.get("role_name"),
            "role_denied": list(org.get("role_denied", [])),
            "timeouts": dict(org.get("timeouts", {})),
        }
    }


def _flag(payload: dict[str, Any], name: str) -> bool | None:
    if name not in payload:
        return None
    value = payload[name]
    if not isinstance(value, bool):
        raise BenchError(400, f"{name} must be true or false")
    return value


def r_organization_get(app: BenchApp, request: Any, payload: dict[str, Any]) -> tuple[int, Any]:
    with STATE.lock:
        return 200, _organization_view()


def r_organization_set(app: BenchApp, request: Any, payload: dict[str, Any]) -> tuple[int, Any]:
    known = {
        "id", "management", "members", "delegated_admin", "all_features", "trusted_access",
        "root_access", "root_credentials_management", "root_sessions",
        "suspended", "role_name", "role_denied", "timeouts",
    }
    unknown = sorted(set(payload) - known)
    if unknown:
        raise BenchError(400, f"unknown organization key(s): {', '.join(unknown)}")

    def account_id(value: Any, name: str) -> str:
        if not isinstance(value, str) or not re.fullmatch(r"[0-9]{12}", value):
            raise BenchError(400, f"{name} must be an account id (12 digits)")
        return value

    with STATE.lock:
        if "management" in payload and payload["management"] is None:
            STATE.organization = None
            return 200, _organization_view()
        org = copy.deepcopy(STATE.organization)
        if org is None:
            if "management" not in payload:
                raise BenchError(400, "management (the management account id) is required")
            org = {
                "id": "o-benchorg01",
                "management": "",
                "members": [],
                "delegated_admin": None,
                "all_features": True,
                "trusted_access": False,
                "features": {f: False for f in ROOT_FEATURES},
            }
        if "management" in payload:
            org["management"] = account_id(payload["management"], "management")
        if "members" in payload:
            members = payload["members"]
            if not isinstance(members, list):
                raise BenchError(400, "members must be a list of account ids")
            org["members"] = sorted({account_id(m, "each member") for m in members})
        if "delegated_admin" in payload:
            value = payload["delegated_admin"]
            org["delegated_admin"] = None if value is None else account_id(value, "delegated_admin")
        if "id" in payload:
            if not isinstance(payload["id"], str) or not ORGANIZATION_ID_RE.fullmatch(payload["id"]):
                raise BenchError(400, "id must match o-[a-z0-9]{10,32}")
            org["id"] = payload["id"]
        root_access = _flag(payload, "root_access")
        if root_access is not None:
            org["trusted_access"] = root_access
            org["features"] = {f: root_access for f in ROOT_FEATURES}
        for name, key in (("all_features", "all_features"), ("trusted_access", "trusted_access")):
            value = _flag(payload, name)
            if value is not None:
                org[key] = value
        for name, feature in (
            ("root_credentials_management", "RootCredentialsManagement"),
            ("root_sessions", "RootSessions"),
        ):
            value = _flag(payload, name)
            if value is not None:
                org["features"][feature] = value
        if "suspended" in payload:
            suspended = payload["suspended"]
            if not isinstance(suspended, list):
                raise BenchError(400, "suspended must be a list of account ids")
            accounts = org.setdefault("accounts", {})
            for meta in accounts.values():
                meta.pop("status", None)
            for a in suspended:
                accounts.setdefault(account_id(a, "each suspended account"), {})["status"] = "SUSPENDED"
        if "role_name" in payload:
            org["role_name"] = payload["role_name"]
        if "role_denied" in payload:
            denied = payload["role_denied"]
            if not isinstance(denied, list):
                raise BenchError(400, "role_denied must be a list of account ids")
            org["role_denied"] = [account_id(a, "each role_denied account") for a in denied]
        if "timeouts" in payload:
            timeouts = payload["timeouts"]
            if not isinstance(timeouts, dict) or not all(
                isinstance(v, int) and v >= 0 for v in timeouts.values()
            ):
                raise BenchError(400, "timeouts maps account ids to milliseconds")
            org["timeouts"] = {account_id(a, "each timeouts account"): v for a, v in timeouts.items()}
        if org["management"] in org["members"]:
            raise BenchError(400, "the management account is not one of the members")
        delegated = org.get("delegated_admin")
        if delegated is not None and delegated not in org["members"]:
            raise BenchError(400, "the delegated administrator must be one of the members")
        STATE.organization = org
        return 200, _organization_view()


def r_organization_delete(app: BenchApp, request: Any, payload: dict[str, Any]) -> tuple[int, Any]:
    with STATE.lock:
        STATE.organization = None
        return 200, _organization_view()


def r_root_sessions(app: BenchApp, request: Any, payload: dict[str, Any]) -> tuple[int, Any]:
    with STATE.lock:
        return 200, {"sessions": [s.public(k) for k, s in STATE.root_sessions.items()]}


_ROUTES: dict[tuple[str, str], Callable[[BenchApp, Any, dict[str, Any]], tuple[int, Any]]] = {
    ("GET", "/_bench/health"): r_health,
    ("GET", "/_bench/time"): r_time,
    ("POST", "/_bench/reset"): r_reset,
    ("GET", "/_bench/config"): r_config_get,
    ("POST", "/_bench/config"): r_config_set,
    ("GET", "/_bench/faults"): r_faults_list,
    ("POST", "/_bench/faults"): r_faults_add,
    ("POST", "/_bench/faults/clear"): r_faults_clear,
    ("DELETE", "/_bench/faults"): r_faults_clear,
    ("GET", "/_bench/calls"): r_calls,
    ("POST", "/_bench/calls/reset"): r_calls_reset,
    ("GET", "/_bench/late-writes"): r_late_writes,
    ("POST", "/_bench/late-writes/land"): r_late_writes_land,
    ("POST", "/_bench/late-writes/clear"): r_late_writes_clear,
    ("POST", "/_bench/check-code"): r_check_code,
    ("GET", "/_bench/device"): r_device,
    ("GET", "/_bench/issued-seeds"): r_issued_seeds,
    ("GET", "/_bench/hardware-tokens"): r_hardware_tokens_get,
    ("POST", "/_bench/hardware-tokens"): r_hardware_tokens_add,
    ("GET", "/_bench/root"): r_root_get,
    ("POST", "/_bench/root"): r_root_set,
    ("GET", "/_bench/access-key"): r_access_key,
    ("GET", "/_bench/organization"): r_organization_get,
    ("POST", "/_bench/organization"): r_organization_set,
    ("DELETE", "/_bench/organization"): r_organization_delete,
    ("GET", "/_bench/root-sessions"): r_root_sessions,
    ("POST", "/_bench/organization/generate"): r_organization_generate,
}


# --------------------------------------------------------------------------------------------
# Server
# --------------------------------------------------------------------------------------------


def build_app() -> BenchApp:
    import moto
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    version = getattr(moto, "__version__", "?")
    if version != TESTED_MOTO_VERSION:
        print(
            f"strict-iam: warning: moto {version} is not the tested {TESTED_MOTO_VERSION}; "
            "run the tests in bench/iam before trusting this bench",
            file=sys.stderr,
        )
    install_patches()
    import simulator  # next to this file: SimulatePrincipalPolicy, which stock moto lacks

    simulator.install(STATE.lock, _paginate)
    return BenchApp(DomainDispatcherApplication(create_backend_app))


def _window(text: str) -> tuple[int, int]:
    past, sep, future = text.partition(":")
    if not sep:
        raise argparse.ArgumentTypeError("expected PAST:FUTURE, e.g. 1:1")
    return int(past), int(future)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=5000, help="port (0: pick a free one)")
    parser.add_argument("--port-file", help="write the bound port to this file once listening")
    parser.add_argument("-v", "--verbose", action="store_true", help="one line per API call")
    parser.add_argument("--enable-window", type=_window, default=(1, 1), metavar="PAST:FUTURE")
    parser.add_argument("--login-window", type=_window, default=(1, 1), metavar="PAST:FUTURE")
    parser.add_argument("--resync-window", type=int, default=20, metavar="STEPS")
    parser.add_argument("--clock-offset", type=float, default=0.0, metavar="SECONDS")
    parser.add_argument(
        "--access-key-for",
        metavar="ACCOUNT",
        help="print an access key id that selects ACCOUNT on this server, and exit",
    )
    args = parser.parse_args(argv)

    if args.access_key_for:
        print(access_key_for_account(args.access_key_for))
        return 0

    config = Config(
        enable_past=args.enable_window[0],
        enable_future=args.enable_window[1],
        login_past=args.login_window[0],
        login_future=args.login_window[1],
        resync_window=args.resync_window,
        clock_offset_s=args.clock_offset,
    )
    STATE.config = config
    STATE.startup_config = copy.deepcopy(config)
    STATE.verbose = args.verbose

    from werkzeug.serving import make_server
    from moto.moto_server.werkzeug_app import MotoRequestHandler

    class QuietHandler(MotoRequestHandler):
        def log_request(self, code: Any = "-", size: Any = "-") -> None:
            pass  # the app logs API calls itself (-v), without paths or query strings

        def date_time_string(self, timestamp: float | None = None) -> str:
            # The HTTP Date header follows the bench's server clock (clock_offset_s).
            return formatdate(server_time() if timestamp is None else timestamp, usegmt=True)

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server(args.host, args.port, build_app(), threaded=True, request_handler=QuietHandler)
    host, port = server.server_address[:2]

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(f"{port}\n")
        os.replace(args.port_file + ".tmp", args.port_file)
    print(f"strict-iam listening on http://{host}:{port}", flush=True)
    try:
        server.serve_forever()
    except SystemExit:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
