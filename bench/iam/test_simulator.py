"""Tests for simulator.py: the policy evaluation on its own, then SimulatePrincipalPolicy through
the strict IAM server with boto3 (users, groups, roles, pages, errors).

Run: /tmp/iam-venv/bin/python -m pytest -q bench/iam/test_simulator.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from simulator import evaluate, wildcard_match  # noqa: E402
from test_strict_iam import Bench, bench, iam, server  # noqa: E402,F401  (fixtures)

DEFAULT = "123456789012"
ALICE = f"arn:aws:iam::{DEFAULT}:user/alice"

SELF_SERVICE = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["iam:CreateVirtualMFADevice", "iam:DeleteVirtualMFADevice"],
         "Resource": "arn:aws:iam::*:mfa/*"},
        {"Effect": "Allow", "Action": ["iam:Get*", "iam:EnableMFADevice", "iam:ListMFADevices"],
         "Resource": "arn:aws:iam::*:user/${aws:username}"},
        {"Effect": "Allow", "Action": "iam:DeactivateMFADevice",
         "Resource": "arn:aws:iam::*:user/${aws:username}",
         "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}},
    ],
}


def decide(policy: dict[str, Any], action: str, resource: str, **context: str) -> dict[str, Any]:
    ctx = {k.replace("__", ":").lower(): [v] for k, v in context.items()}
    return evaluate([("p", "IAM Policy", policy)], action, resource, ctx)


# ------------------------------------------------------------------------------ evaluation


def test_wildcards() -> None:
    assert wildcard_match("iam:*MFA*", "iam:ListMFADevices")
    assert wildcard_match("iam:list?fadevices", "iam:ListMFADevices", ignore_case=True)
    assert not wildcard_match("iam:List*", "iam:GetUser")
    assert wildcard_match("arn:aws:iam::*:user/*", "arn:aws:iam::1:user/team/alice")
    assert not wildcard_match("arn:aws:iam::*:user/A*", "arn:aws:iam::1:user/alice")


def test_self_service_policy_decisions() -> None:
    ctx = {"aws__username": "alice"}
    assert decide(SELF_SERVICE, "iam:EnableMFADevice", ALICE, **ctx)["EvalDecision"] == "allowed"
    assert decide(SELF_SERVICE, "iam:getuser", ALICE, **ctx)["EvalDecision"] == "allowed"
    other = f"arn:aws:iam::{DEFAULT}:user/bob"
    assert decide(SELF_SERVICE, "iam:EnableMFADevice", other, **ctx)["EvalDecision"] == "implicitDeny"
    device = f"arn:aws:iam::{DEFAULT}:mfa/alice-yk1"
    assert decide(SELF_SERVICE, "iam:CreateVirtualMFADevice", device)["EvalDecision"] == "allowed"
    assert decide(SELF_SERVICE, "iam:TagMFADevice", device)["EvalDecision"] == "implicitDeny"


def test_missing_condition_keys_and_variables_are_reported() -> None:
    result = decide(SELF_SERVICE, "iam:DeactivateMFADevice", ALICE, aws__username="alice")
    assert result["EvalDecision"] == "implicitDeny"
    assert result["MissingContextValues"] == ["aws:MultiFactorAuthPresent"]
    result = decide(SELF_SERVICE, "iam:DeactivateMFADevice", ALICE,
                    aws__username="alice", aws__MultiFactorAuthPresent="true")
    assert result["EvalDecision"] == "allowed"
    assert result["MissingContextValues"] == []
    # Without aws:username the variable cannot be resolved: not allowed, and the key is named.
    result = decide(SELF_SERVICE, "iam:EnableMFADevice", ALICE)
    assert result["EvalDecision"] == "implicitDeny"
    assert result["MissingContextValues"] == ["aws:username"]


def test_deny_wins_and_not_action() -> None:
    policy = {"Statement": [
        {"Effect": "Allow", "Action": "iam:*", "Resource": "*"},
        {"Effect": "Deny", "NotAction": ["iam:List*", "iam:Get*"], "Resource": "*"},
    ]}
    assert decide(policy, "iam:ListUsers", "*")["EvalDecision"] == "allowed"
    result = decide(policy, "iam:DeleteVirtualMFADevice", "*")
    assert result["EvalDecision"] == "explicitDeny"
    assert result["MatchedStatements"] == [{"SourcePolicyId": "p", "SourcePolicyType": "IAM Policy"}]
    assert decide({"Statement": []}, "iam:ListUsers", "*")["EvalDecision"] == "implicitDeny"


def test_literal_star_variable_is_not_a_wildcard() -> None:
    policy = {"Statement": [{"Effect": "Allow", "Action": "iam:GetUser",
                             "Resource": "arn:aws:iam::1:user/x${*}"}]}
    assert decide(policy, "iam:GetUser", "arn:aws:iam::1:user/x*")["EvalDecision"] == "allowed"
    assert decide(policy, "iam:GetUser", "arn:aws:iam::1:user/xy")["EvalDecision"] == "implicitDeny"


# ------------------------------------------------------------------------------ through the server


def _simulate(iam: Any, arn: str, actions: list[str], resources: list[str] | None = None,
              **extra: Any) -> dict[str, str]:
    kwargs: dict[str, Any] = {"PolicySourceArn": arn, "ActionNames": actions, **extra}
    if resources:
        kwargs["ResourceArns"] = resources
    out = iam.simulate_principal_policy(**kwargs)
    return {r["EvalActionName"]: r["EvalDecision"] for r in out["EvaluationResults"]}


def test_user_inline_group_and_managed_policies(bench: Bench, iam: Any) -> None:
    iam.create_user(UserName="alice")
    iam.put_user_policy(UserName="alice", PolicyName="self", PolicyDocument=json.dumps(SELF_SERVICE))
    iam.create_group(GroupName="auditors")
    managed = iam.create_policy(PolicyName="read", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["iam:ListUsers", "iam:GetAccountSummary"],
                       "Resource": "*"}]}))["Policy"]["Arn"]
    iam.attach_group_policy(GroupName="auditors", PolicyArn=managed)
    iam.add_user_to_group(GroupName="auditors", UserName="alice")

    got = _simulate(iam, ALICE, ["iam:EnableMFADevice", "iam:ListMFADevices"], [ALICE])
    assert got == {"iam:EnableMFADevice": "allowed", "iam:ListMFADevices": "allowed"}
    got = _simulate(iam, ALICE, ["iam:ListUsers", "iam:ResyncMFADevice", "iam:ListVirtualMFADevices"])
    assert got == {"iam:ListUsers": "allowed", "iam:ResyncMFADevice": "implicitDeny",
                   "iam:ListVirtualMFADevices": "implicitDeny"}

    # A deny attached to the user wins over the group's allow.
    deny = iam.create_policy(PolicyName="no-list", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "iam:ListUsers", "Resource": "*"}]}))
    iam.attach_user_policy(UserName="alice", PolicyArn=deny["Policy"]["Arn"])
    assert _simulate(iam, ALICE, ["iam:ListUsers"]) == {"iam:ListUsers": "explicitDeny"}

    # The conditional deactivate: the missing key is named, and given, it passes.
    out = iam.simulate_principal_policy(PolicySourceArn=ALICE, ActionNames=["iam:DeactivateMFADevice"],
                                        ResourceArns=[ALICE])
    assert out["EvaluationResults"][0]["EvalDecision"] == "implicitDeny"
    assert out["EvaluationResults"][0]["MissingContextValues"] == ["aws:MultiFactorAuthPresent"]
    got = _simulate(iam, ALICE, ["iam:DeactivateMFADevice"], [ALICE], ContextEntries=[
        {"ContextKeyName": "aws:MultiFactorAuthPresent", "ContextKeyValues": ["true"],
         "ContextKeyType": "boolean"}])
    assert got == {"iam:DeactivateMFADevice": "allowed"}


def test_roles_pages_and_errors(bench: Bench, iam: Any) -> None:
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{DEFAULT}:root"},
         "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName="Admin", Path="/ops/", AssumeRolePolicyDocument=json.dumps(trust))
    arn = role["Role"]["Arn"]
    assert arn == f"arn:aws:iam::{DEFAULT}:role/ops/Admin"
    iam.put_role_policy(RoleName="Admin", PolicyName="mfa", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iam:*MFADevice*", "Resource": "*"}]}))
    actions = ["iam:CreateVirtualMFADevice", "iam:ListMFADevices", "iam:ListUsers",
               "iam:EnableMFADevice", "iam:ListMFADeviceTags"]
    first = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=actions, MaxItems=2)
    assert first["IsTruncated"] is True and len(first["EvaluationResults"]) == 2
    results = list(first["EvaluationResults"])
    marker = first["Marker"]
    while marker:
        page = iam.simulate_principal_policy(PolicySourceArn=arn, ActionNames=actions, MaxItems=2,
                                             Marker=marker)
        results += page["EvaluationResults"]
        marker = page.get("Marker")
    assert [r["EvalActionName"] for r in results] == actions
    assert [r["EvalDecision"] for r in results] == [
        "allowed", "allowed", "implicitDeny", "allowed", "allowed"]
    assert all(r["EvalResourceName"] == "*" for r in results)

    for source in (f"arn:aws:iam::{DEFAULT}:user/nobody", f"arn:aws:iam::{DEFAULT}:role/Nope"):
        with pytest.raises(botocore.exceptions.ClientError) as err:
            iam.simulate_principal_policy(PolicySourceArn=source, ActionNames=["iam:ListUsers"])
        assert err.value.response["Error"]["Code"] == "NoSuchEntity"
    with pytest.raises(botocore.exceptions.ClientError) as err:
        iam.simulate_principal_policy(PolicySourceArn="arn:aws:s3:::bucket-name-long",
                                      ActionNames=["iam:ListUsers"])
    assert err.value.response["Error"]["Code"] == "InvalidInput"
