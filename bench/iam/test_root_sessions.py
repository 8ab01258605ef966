"""Tests for the bench's organization and root sessions: sts:AssumeRoot, the task policy that
limits a session, its token and expiry, and IAM's ListOrganizationsFeatures and
Enable/DisableOrganizationsRoot* calls, all answering from `/_bench/organization`.

Run: /tmp/iam-venv/bin/python -m pytest -q bench/iam/test_root_sessions.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from strict_iam import access_key_for_account, account_from_access_key  # noqa: E402
from test_strict_iam import Bench, bench, create, error_of, pair, server  # noqa: E402,F401  (fixtures)

MANAGEMENT = "111111111111"
MEMBER = "222222222222"
OUTSIDER = "333333333333"
DELEGATED = "444444444444"
DELETE_TASK = "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials"
AUDIT_TASK = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"


def organization(bench: Bench, **settings: Any) -> dict[str, Any]:
    body = {"management": MANAGEMENT, "members": [MEMBER, DELEGATED], "root_access": True,
            "all_features": True}
    body.update(settings)
    return bench.post("/_bench/organization", body)["organization"]


def change(bench: Bench, **settings: Any) -> dict[str, Any]:
    """Changes only these settings of the organization."""
    return bench.post("/_bench/organization", settings)["organization"]


def assume_root(bench: Bench, caller: str = MANAGEMENT, target: str = MEMBER,
                task: str = DELETE_TASK, duration: int | None = 900) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"TargetPrincipal": target, "TaskPolicyArn": {"arn": task}}
    if duration is not None:
        kwargs["DurationSeconds"] = duration
    return bench.client("sts", account=caller).assume_root(**kwargs)


def session_client(bench: Bench, credentials: dict[str, Any], service: str = "iam",
                   token: str | None = "issued") -> Any:
    return boto3.client(
        service,
        endpoint_url=bench.url,
        region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"] if token == "issued" else token,
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


def root_device(bench: Bench, account: str = MEMBER, name: str = "root-yk") -> str:
    """A virtual device in `account`, assigned to its root user the console way (two codes)."""
    serial, key = create(bench.client(account=account), name)
    codes = pair(key, bench.step())
    bench.post("/_bench/root", {"account": account, "assign_device": serial,
                                "code1": codes["AuthenticationCode1"],
                                "code2": codes["AuthenticationCode2"]})
    return serial


def refused(call: Any) -> tuple[str, int]:
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        call()
    return error_of(exc)


# ------------------------------------------------------------------------------------ AssumeRoot


def test_a_root_session_acts_as_the_member_root_and_deletes_its_mfa(bench: Bench) -> None:
    organization(bench)
    serial = root_device(bench)
    before = time.time() + bench.offset
    answer = assume_root(bench)
    credentials = answer["Credentials"]
    assert set(credentials) == {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"}
    assert "SourceIdentity" not in answer  # the bench's callers carry none
    key = credentials["AccessKeyId"]
    assert key.startswith("ASIA") and len(key) == 20
    assert account_from_access_key(key) == MEMBER  # like AWS's key ids, it names the account
    expires = credentials["Expiration"].timestamp()
    assert before + 899 <= expires <= before + 902

    sts = session_client(bench, credentials, "sts")
    who = sts.get_caller_identity()
    assert (who["Account"], who["Arn"], who["UserId"]) == (MEMBER, f"arn:aws:iam::{MEMBER}:root", MEMBER)

    iam = session_client(bench, credentials)
    assert [d["SerialNumber"] for d in iam.list_mfa_devices()["MFADevices"]] == [serial]
    iam.deactivate_mfa_device(SerialNumber=serial)  # no UserName: the session is root
    assert iam.list_mfa_devices()["MFADevices"] == []
    iam.delete_virtual_mfa_device(SerialNumber=serial)
    posture = bench.get(f"/_bench/root?account={MEMBER}")
    assert (posture["mfa_devices"], posture["mfa_enabled"]) == ([], False)
    member = bench.client(account=MEMBER)
    assert member.list_virtual_mfa_devices()["VirtualMFADevices"] == []

    sessions = bench.get("/_bench/root-sessions")["sessions"]
    assert len(sessions) == 1
    assert sessions[0]["access_key_id"] == key
    assert (sessions[0]["account"], sessions[0]["caller_account"]) == (MEMBER, MANAGEMENT)
    assert (sessions[0]["task_policy_arn"], sessions[0]["duration_s"]) == (DELETE_TASK, 900)
    assert sessions[0]["expired"] is False
    assert "session_token" not in sessions[0] and "secret_access_key" not in sessions[0]
    calls = bench.get("/_bench/calls?action=AssumeRoot")["calls"]
    assert [(c["service"], c["account"], c["status"]) for c in calls] == [("sts", MANAGEMENT, 200)]

    time.sleep(0.2)
    log = bench.log_path.read_text()
    for secret in (credentials["SecretAccessKey"], credentials["SessionToken"]):
        assert secret not in log


def test_the_target_may_be_a_root_arn_and_a_delegated_admin_may_call(bench: Bench) -> None:
    organization(bench, delegated_admin=DELEGATED)
    answer = assume_root(bench, target=f"arn:aws:iam::{MEMBER}:root", duration=None)
    assert account_from_access_key(answer["Credentials"]["AccessKeyId"]) == MEMBER
    answer = assume_root(bench, caller=DELEGATED)
    assert bench.get("/_bench/root-sessions")["sessions"][-1]["caller_account"] == DELEGATED
    assert bench.get("/_bench/root-sessions")["sessions"][0]["duration_s"] == 900  # the default
    who = session_client(bench, answer["Credentials"], "sts").get_caller_identity()
    assert who["Arn"] == f"arn:aws:iam::{MEMBER}:root"


def test_a_session_may_only_do_what_its_task_policy_allows(bench: Bench) -> None:
    organization(bench)
    serial = root_device(bench)
    member = bench.client(account=MEMBER)
    member.create_user(UserName="alice")
    iam = session_client(bench, assume_root(bench)["Credentials"])
    denied = ("AccessDenied", 403)
    assert refused(iam.list_users) == denied
    assert refused(lambda: iam.list_virtual_mfa_devices(AssignmentStatus="Any")) == denied
    assert refused(lambda: iam.create_virtual_mfa_device(VirtualMFADeviceName="x")) == denied
    assert refused(lambda: iam.enable_mfa_device(
        UserName="alice", SerialNumber=serial, AuthenticationCode1="123456",
        AuthenticationCode2="654321")) == denied
    assert refused(iam.get_account_summary) == denied
    # Its actions apply to the root user only, not to IAM users of the account.
    assert refused(lambda: iam.list_mfa_devices(UserName="alice")) == denied
    assert refused(lambda: iam.deactivate_mfa_device(UserName="alice", SerialNumber=serial)) == denied
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        iam.list_users()
    message = exc.value.response["Error"]["Message"]
    assert f"arn:aws:iam::{MEMBER}:root is not authorized to perform: iam:ListUsers" in message
    assert bench.get(f"/_bench/device?serial={serial}")["assigned"] is True, "nothing changed"
    # The other root-credential deletions are allowed.
    assert iam.list_access_keys()["AccessKeyMetadata"] == []

    audit = session_client(bench, assume_root(bench, task=AUDIT_TASK)["Credentials"])
    assert [d["SerialNumber"] for d in audit.list_mfa_devices()["MFADevices"]] == [serial]
    assert refused(lambda: audit.deactivate_mfa_device(SerialNumber=serial)) == denied
    assert refused(lambda: audit.delete_virtual_mfa_device(SerialNumber=serial)) == denied
    assert bench.get(f"/_bench/device?serial={serial}")["assigned"] is True


def test_a_session_needs_its_own_token_and_ends_when_it_expires(bench: Bench) -> None:
    organization(bench)
    root_device(bench)
    credentials = assume_root(bench)["Credentials"]
    for token in (None, "not-the-issued-token"):
        sts = session_client(bench, credentials, "sts", token=token)
        assert refused(sts.get_caller_identity) == ("InvalidClientTokenId", 403)
        iam = session_client(bench, credentials, token=token)
        assert refused(iam.list_mfa_devices) == ("InvalidClientTokenId", 403)

    # A session of 0 seconds (the least AWS allows) is over at once.
    over = session_client(bench, assume_root(bench, duration=0)["Credentials"])
    assert refused(over.list_mfa_devices) == ("ExpiredToken", 400)
    # 900 s later by the server's clock, the first one is over too.
    iam = session_client(bench, credentials)
    assert len(iam.list_mfa_devices()["MFADevices"]) == 1
    bench.post("/_bench/config", {"clock_offset_s": bench.offset + 901})
    assert refused(iam.list_mfa_devices) == ("ExpiredToken", 400)
    assert all(s["expired"] for s in bench.get("/_bench/root-sessions")["sessions"])


def test_assume_root_refusals_are_access_denied_and_open_nothing(bench: Bench) -> None:
    denied = ("AccessDenied", 403)
    # No organization at all.
    assert refused(lambda: assume_root(bench)) == denied
    organization(bench, delegated_admin=DELEGATED)
    # A member account, an account outside the organization.
    assert refused(lambda: assume_root(bench, caller=MEMBER, target=DELEGATED)) == denied
    assert refused(lambda: assume_root(bench, caller=OUTSIDER)) == denied
    # Targets that are not members: outside, the management account, the caller itself.
    assert refused(lambda: assume_root(bench, target=OUTSIDER)) == denied
    assert refused(lambda: assume_root(bench, caller=DELEGATED, target=MANAGEMENT)) == denied
    assert refused(lambda: assume_root(bench, caller=DELEGATED, target=DELEGATED)) == denied
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        assume_root(bench, target=OUTSIDER)
    message = exc.value.response["Error"]["Message"]
    assert message == (
        f"User: arn:aws:sts::{MANAGEMENT}:user/moto is not authorized to perform: "
        f"sts:AssumeRoot on resource: arn:aws:iam::{OUTSIDER}:root"
    )
    # Centralized root access off, or only partly on.
    for settings in ({"root_sessions": False}, {"trusted_access": False},
                     {"all_features": False}, {"root_access": False}):
        organization(bench, root_access=True)
        organization(bench, **settings)
        assert refused(lambda: assume_root(bench)) == denied, settings
    organization(bench, root_access=True, root_credentials_management=False)
    assume_root(bench)  # RootSessions is what AssumeRoot needs
    opened = len(bench.get("/_bench/root-sessions")["sessions"])
    assert opened == 1
    # Root user credentials, and a root session itself, cannot call AssumeRoot.
    root_key = "AKIAROOTBENCHEXAMPLE"
    bench.post("/_bench/root", {"account": MANAGEMENT, "add_access_key_id": root_key})
    as_root = boto3.client("sts", endpoint_url=bench.url, region_name="us-east-1",
                           aws_access_key_id=root_key, aws_secret_access_key="x")
    assert refused(lambda: as_root.assume_root(
        TargetPrincipal=MEMBER, TaskPolicyArn={"arn": DELETE_TASK})) == denied
    session = session_client(bench, assume_root(bench)["Credentials"], "sts")
    assert refused(lambda: session.assume_root(
        TargetPrincipal=MEMBER, TaskPolicyArn={"arn": DELETE_TASK})) == denied
    assert len(bench.get("/_bench/root-sessions")["sessions"]) == opened + 1


def test_assume_root_validates_its_parameters(bench: Bench) -> None:
    organization(bench)
    invalid = ("ValidationError", 400)
    assert refused(lambda: assume_root(bench, duration=901)) == invalid
    assert refused(lambda: assume_root(bench, task="arn:aws:iam::aws:policy/AdministratorAccess")) == invalid
    assert refused(lambda: assume_root(bench, task="arn:aws:iam::aws:policy/root-task/Nope")) == invalid
    assert refused(lambda: assume_root(bench, target="12345678901x")) == invalid
    assert refused(lambda: assume_root(bench, target=f"arn:aws:iam::{MEMBER}:user/alice")) == invalid
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        assume_root(bench, duration=901)
    assert "durationSeconds" in exc.value.response["Error"]["Message"]
    assert bench.get("/_bench/root-sessions")["sessions"] == []


def test_faults_still_fire_before_assume_root(bench: Bench) -> None:
    organization(bench)
    bench.post("/_bench/faults", {"action": "AssumeRoot", "code": "RegionDisabledException", "status": 403})
    assert refused(lambda: assume_root(bench)) == ("RegionDisabledException", 403)
    assert bench.get("/_bench/root-sessions")["sessions"] == []
    assume_root(bench)


# ------------------------------------------------------------------------------------ IAM's side


def test_list_organizations_features_follows_the_organization(bench: Bench) -> None:
    management = bench.client(account=MANAGEMENT)

    def features(account: str = MANAGEMENT) -> Any:
        return bench.client(account=account).list_organizations_features()

    assert refused(features) == ("OrganizationNotFoundException", 400)
    organization(bench, root_access=False, delegated_admin=DELEGATED)
    assert refused(lambda: features(OUTSIDER)) == ("OrganizationNotFoundException", 400)
    assert refused(lambda: features(MEMBER)) == ("AccountNotManagementOrDelegatedAdministratorException", 400)
    assert refused(features) == ("ServiceAccessNotEnabledException", 400)
    change(bench, trusted_access=True)
    answer = management.list_organizations_features()
    assert (answer["OrganizationId"], answer["EnabledFeatures"]) == ("o-benchorg01", [])
    change(bench, root_sessions=True)
    assert management.list_organizations_features()["EnabledFeatures"] == ["RootSessions"]
    organization(bench, root_access=True)
    assert features(DELEGATED)["EnabledFeatures"] == ["RootCredentialsManagement", "RootSessions"]
    change(bench, all_features=False)
    assert refused(features) == ("OrganizationNotInAllFeaturesModeException", 400)


def test_enabling_root_access_through_iam_opens_assume_root(bench: Bench) -> None:
    organization(bench, root_access=False, trusted_access=True, delegated_admin=DELEGATED)
    management = bench.client(account=MANAGEMENT)
    assert refused(lambda: assume_root(bench)) == ("AccessDenied", 403)
    delegated = bench.client(account=DELEGATED)
    assert refused(delegated.enable_organizations_root_sessions) == (
        "CallerIsNotManagementAccountException", 400)
    answer = management.enable_organizations_root_credentials_management()
    assert answer["EnabledFeatures"] == ["RootCredentialsManagement"]
    assert refused(lambda: assume_root(bench)) == ("AccessDenied", 403)
    answer = management.enable_organizations_root_sessions()
    assert answer["EnabledFeatures"] == ["RootCredentialsManagement", "RootSessions"]
    assume_root(bench, caller=DELEGATED)
    assert delegated.disable_organizations_root_sessions()["EnabledFeatures"] == ["RootCredentialsManagement"]
    assert refused(lambda: assume_root(bench)) == ("AccessDenied", 403)
    assert bench.get("/_bench/organization")["organization"]["enabled_features"] == ["RootCredentialsManagement"]


def test_the_organization_endpoint(bench: Bench) -> None:
    assert bench.get("/_bench/organization") == {"organization": None}
    org = organization(bench)
    assert org == {
        "id": "o-benchorg01", "management": MANAGEMENT, "members": [MEMBER, DELEGATED],
        "delegated_admin": None, "all_features": True, "trusted_access": True,
        "enabled_features": ["RootCredentialsManagement", "RootSessions"],
        "suspended": [], "role_name": None, "role_denied": [], "timeouts": {},
    }
    for body in ({"members": "222222222222"}, {"members": ["2222"]}, {"management": MEMBER},
                 {"delegated_admin": OUTSIDER}, {"root_access": "yes"}, {"id": "org-1"},
                 {"colour": "blue"}):
        status, answer = bench.request("POST", "/_bench/organization", body)
        assert status == 400 and "error" in answer, (body, answer)
    assert bench.get("/_bench/organization")["organization"] == org, "a refused change changes nothing"
    assert bench.request("DELETE", "/_bench/organization")[1] == {"organization": None}
    status, answer = bench.request("POST", "/_bench/organization", {"members": [MEMBER]})
    assert status == 400 and "management" in answer["error"]
    organization(bench)
    assume_root(bench)
    bench.post("/_bench/reset")
    assert bench.get("/_bench/organization") == {"organization": None}
    assert bench.get("/_bench/root-sessions")["sessions"] == []
    assert access_key_for_account(MEMBER) == "AKIATHPL2AOHABENCHKY"  # as README's table says
