"""Tests for the bench's model of an organization-wide audit: Organizations ListAccounts and
DescribeOrganization, AssumeRoot scoped to IAMAuditRootUserCredentials (root's MFA devices of
every kind, login profile, access keys, signing certificates), AssumeRole into members (a denied
role, a slow account), root credentials deleted centrally, and the generated organization.

Run: /tmp/iam-venv/bin/python -m pytest -q bench/iam/test_org_audit.py
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

from strict_iam import access_key_for_account  # noqa: E402
from test_strict_iam import Bench, bench, error_of, server  # noqa: E402,F401  (fixtures)

AUDIT_TASK = "arn:aws:iam::aws:policy/root-task/IAMAuditRootUserCredentials"
ROLE = "OrganizationAccountAccessRole"


def generate(bench: Bench, accounts: int = 10, **extra: Any) -> dict[str, Any]:
    return bench.post("/_bench/organization/generate", {"accounts": accounts, **extra})


def by_case(org: dict[str, Any]) -> dict[str, str]:
    """special case or root case -> the first account that has it."""
    out: dict[str, str] = {}
    for a in org["accounts"]:
        if a["management"]:
            continue
        out.setdefault(a["special"] or a["root"]["case"], a["id"])
    return out


def client(bench: Bench, service: str, credentials: dict[str, Any] | None = None,
           account: str | None = None, **config: Any) -> Any:
    if credentials is None:
        key, secret, token = access_key_for_account(account or "123456789012"), "bench", None
    else:
        key, secret = credentials["AccessKeyId"], credentials["SecretAccessKey"]
        token = credentials["SessionToken"]
    return boto3.client(
        service, endpoint_url=bench.url, region_name="us-east-1", aws_access_key_id=key,
        aws_secret_access_key=secret, aws_session_token=token,
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, **config),
    )


def audit_session(bench: Bench, management: str, member: str) -> Any:
    sts = client(bench, "sts", account=management)
    answer = sts.assume_root(TargetPrincipal=member, TaskPolicyArn={"arn": AUDIT_TASK})
    return client(bench, "iam", answer["Credentials"])


def role_session(bench: Bench, management: str, member: str, **config: Any) -> Any:
    sts = client(bench, "sts", account=management, **config)
    answer = sts.assume_role(RoleArn=f"arn:aws:iam::{member}:role/{ROLE}", RoleSessionName="audit")
    return client(bench, "iam", answer["Credentials"])


def test_list_accounts_pages_through_management_and_members(bench: Bench) -> None:
    org = generate(bench, 25)
    management = org["accounts"][0]["id"]
    orgs = client(bench, "organizations", account=management)
    seen, token, pages = [], None, 0
    while True:
        kwargs: dict[str, Any] = {"MaxResults": 10}
        if token:
            kwargs["NextToken"] = token
        page = orgs.list_accounts(**kwargs)
        seen += page["Accounts"]
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    assert pages == 3
    assert [a["Id"] for a in seen] == [a["id"] for a in org["accounts"]]
    suspended = by_case(org)["suspended"]
    states = {a["Id"]: a["Status"] for a in seen}
    assert states[suspended] == "SUSPENDED"
    assert sum(1 for s in states.values() if s == "ACTIVE") == 24
    described = orgs.describe_organization()["Organization"]
    assert described["MasterAccountId"] == management
    # A member may describe the organization, not list its accounts.
    member = client(bench, "organizations", account=org["accounts"][1]["id"])
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        member.list_accounts()
    assert error_of(exc)[0] == "AccessDeniedException"
    assert member.describe_organization()["Organization"]["Id"] == "o-benchorg01"
    outsider = client(bench, "organizations", account="999999999999")
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        outsider.list_accounts()
    assert error_of(exc)[0] == "AWSOrganizationsNotInUseException"


def test_audit_root_session_sees_every_kind_of_root_credential(bench: Bench) -> None:
    org = generate(bench, 10)
    management = org["accounts"][0]["id"]
    cases = by_case(org)
    serials = {}
    for case in ("fido", "hardware", "virtual", "virtual-on-token", "no-mfa", "deleted"):
        iam = audit_session(bench, management, cases[case])
        devices = iam.list_mfa_devices()["MFADevices"]
        serials[case] = [d["SerialNumber"] for d in devices]
        profile = None
        try:
            profile = iam.get_login_profile()["LoginProfile"]
        except botocore.exceptions.ClientError as err:
            assert err.response["Error"]["Code"] == "NoSuchEntity"
        assert (profile is None) == (case == "deleted")
        assert iam.list_access_keys()["AccessKeyMetadata"] == []
        assert iam.list_signing_certificates()["Certificates"] == []
    assert ":u2f/root/" in serials["fido"][0]
    assert not serials["hardware"][0].startswith("arn:")
    assert ":mfa/" in serials["virtual"][0] and ":mfa/" in serials["virtual-on-token"][0]
    assert serials["no-mfa"] == [] and serials["deleted"] == []


def test_audit_task_allows_reads_of_root_only(bench: Bench) -> None:
    org = generate(bench, 10)
    management = org["accounts"][0]["id"]
    member = by_case(org)["no-mfa"]
    iam = audit_session(bench, management, member)
    for call in (
        lambda: iam.list_users(),
        lambda: iam.get_account_summary(),
        lambda: iam.create_login_profile(Password="Bench-pass-1234!"),
        lambda: iam.deactivate_mfa_device(SerialNumber="arn:aws:iam::%s:mfa/x" % member),
        lambda: iam.list_mfa_devices(UserName="ops-admin"),
    ):
        with pytest.raises(botocore.exceptions.ClientError) as exc:
            call()
        assert error_of(exc) == ("AccessDenied", 403)


def test_root_credentials_deleted_is_a_state(bench: Bench) -> None:
    org = generate(bench, 10)
    cases = by_case(org)
    posture = bench.get(f"/_bench/root?account={cases['deleted']}")
    assert posture["credentials_deleted"] is True
    assert posture["password"] is False and posture["mfa_devices"] == []
    fido = bench.get(f"/_bench/root?account={cases['fido']}")
    assert fido["mfa_enabled"] is True and fido["credentials_deleted"] is False
    # Deleting centrally through /_bench/root on another account.
    after = bench.post("/_bench/root", {"account": cases["virtual"], "delete_credentials": True})
    assert after["mfa_devices"] == [] and after["password"] is False
    # Through an assumed role, GetAccountSummary sees hardware MFA as enabled.
    iam = role_session(bench, org["accounts"][0]["id"], cases["hardware"])
    summary = iam.get_account_summary()["SummaryMap"]
    assert summary["AccountMFAEnabled"] == 1


def test_assume_role_into_members_denied_and_slow(bench: Bench) -> None:
    org = generate(bench, 10, timeout_ms=1500)
    management = org["accounts"][0]["id"]
    cases = by_case(org)
    iam = role_session(bench, management, cases["fido"])
    names = sorted(u["UserName"] for u in iam.list_users()["Users"])
    assert "ops-admin" in names
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        role_session(bench, management, cases["role-denied"])
    assert error_of(exc) == ("AccessDenied", 403)
    sts = client(bench, "sts", account=management)
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        sts.assume_role(RoleArn=f"arn:aws:iam::{cases['fido']}:role/Other", RoleSessionName="audit")
    assert error_of(exc) == ("AccessDenied", 403)
    started = time.monotonic()
    with pytest.raises(botocore.exceptions.ReadTimeoutError):
        role_session(bench, management, cases["timeout"], read_timeout=0.5)
    assert time.monotonic() - started < 1.4
    time.sleep(1.2)  # let the slow answer go before the next test


def test_accounts_keep_separate_iam_state(bench: Bench) -> None:
    org = generate(bench, 10)
    management = org["accounts"][0]["id"]
    users = {}
    for entry in org["accounts"][1:4]:
        iam = role_session(bench, management, entry["id"])
        users[entry["id"]] = sorted(u["UserName"] for u in iam.list_users()["Users"])
        assert users[entry["id"]] == sorted(u["name"] for u in entry["users"])
    assert len(set(map(tuple, users.values()))) == 3


def test_generate_200_accounts_is_quick(bench: Bench) -> None:
    started = time.monotonic()
    org = generate(bench, 200)
    assert time.monotonic() - started < 10
    assert len(org["accounts"]) == 200
    assert len(org["organization"]["members"]) == 199
    for bad in ({"accounts": 3}, {"accounts": "many"}):
        status, _ = bench.request("POST", "/_bench/organization/generate", bad)
        assert status == 400


def test_faults_on_organizations_answer_in_its_json_shape(bench: Bench) -> None:
    org = generate(bench, 10)
    bench.post("/_bench/faults", {"action": "ListAccounts", "code": "TooManyRequestsException",
                                  "status": 400})
    orgs = client(bench, "organizations", account=org["accounts"][0]["id"])
    with pytest.raises(botocore.exceptions.ClientError) as exc:
        orgs.list_accounts()
    assert error_of(exc) == ("TooManyRequestsException", 400)
    assert len(orgs.list_accounts()["Accounts"]) == 10
