"""IAM's policy simulator (SimulatePrincipalPolicy) for the strict IAM bench, which stock moto lacks.

A bench approximation, small on purpose, of how IAM evaluates identity-based policies:

* The principal is an IAM user (its inline and attached managed policies, and those of its groups)
  or an IAM role (inline and attached managed policies), named by `PolicySourceArn`. Permissions
  boundaries, SCPs, resource-based and session policies are not evaluated.
* A statement applies when its `Action` (or `NotAction`) matches the action, case-insensitively,
  with `*` and `?` wildcards, and its `Resource` (or `NotResource`) matches the resource,
  case-sensitively, with the same wildcards. A statement without `Resource` applies to all.
* Policy variables `${aws:username}` (and any `${key}`) are replaced from the context entries; for
  a user, `aws:username` defaults to the user's name. `${*}`, `${?}` and `${$}` are the literal
  characters. An unknown variable makes the statement not match.
* Conditions: `StringEquals`, `StringNotEquals`, `StringEqualsIgnoreCase`, `StringLike`,
  `StringNotLike`, `ArnEquals`, `ArnLike`, `Bool`, each with `IfExists`. A key the context does not
  give makes the statement not apply and is reported in `MissingContextValues`, as IAM does. Any
  other operator makes the statement not apply (reported as a missing key too).
* Decision: an applying Deny is `explicitDeny`; else an applying Allow is `allowed`; else
  `implicitDeny`.

AWS evaluates more (every condition operator, boundaries, SCPs); for what ykmfa's `doctor` asks —
which of a handful of IAM actions a user's or role's policies allow — this gives the same answers.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable, Iterable
from urllib.parse import unquote

_VARIABLE_RE = re.compile(r"\$\{([^}]*)\}")
_ARN_RE = re.compile(r"arn:([a-z0-9-]+):iam::([0-9]{12}):(user|role)/(?:.*/)?([\w+=,.@-]+)")
_STRING_OPERATORS = {
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "ArnEquals",
    "ArnLike",
    "Bool",
}


class UnknownVariable(Exception):
    """A policy variable the context does not define."""


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def wildcard_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """IAM's `*` (any run, `/` included) and `?` (one character) matching."""
    regex = "".join(
        ".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern
    )
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.fullmatch(regex, value, flags) is not None


def substitute(text: str, context: dict[str, list[str]]) -> str:
    """Replaces `${key}` policy variables; `${*}`, `${?}`, `${$}` stay as literal characters.

    Literal `*`/`?` from `${*}`/`${?}` would become wildcards again after substitution; IAM
    treats them as literals, so they are kept as private placeholders until matching."""

    def one(m: re.Match[str]) -> str:
        key = m.group(1)
        if key in ("*", "?", "$"):
            return {"*": "\x00", "?": "\x01", "$": "$"}[key]
        values = context.get(key.lower())
        if not values:
            raise UnknownVariable(key)
        return values[0]

    return _VARIABLE_RE.sub(one, text)


def _matches_pattern(pattern: str, value: str, context: dict[str, list[str]], ignore_case: bool) -> bool:
    pattern = substitute(pattern, context)
    regex = "".join(
        ".*" if c == "*"
        else "." if c == "?"
        else re.escape("*") if c == "\x00"
        else re.escape("?") if c == "\x01"
        else re.escape(c)
        for c in pattern
    )
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.fullmatch(regex, value, flags) is not None


def _condition_holds(
    condition: dict[str, Any], context: dict[str, list[str]], missing: list[str]
) -> bool:
    for operator, tests in (condition or {}).items():
        base = operator[:-8] if operator.endswith("IfExists") else operator
        if_exists = operator.endswith("IfExists")
        if base not in _STRING_OPERATORS or not isinstance(tests, dict):
            # An operator this bench does not evaluate: the statement does not apply.
            missing.extend(k for k in (tests or {}) if isinstance(tests, dict))
            return False
        for key, wanted in tests.items():
            given = context.get(key.lower())
            if given is None:
                if if_exists:
                    continue
                missing.append(key)
                return False
            wanted = [str(w) for w in _as_list(wanted)]
            if base == "Bool":
                ok = any(g.lower() == w.lower() for g in given for w in wanted)
            elif base in ("StringEquals", "ArnEquals"):
                ok = any(g == w for g in given for w in wanted)
            elif base == "StringEqualsIgnoreCase":
                ok = any(g.lower() == w.lower() for g in given for w in wanted)
            elif base == "StringNotEquals":
                ok = all(g != w for g in given for w in wanted)
            elif base in ("StringLike", "ArnLike"):
                ok = any(wildcard_match(w, g) for g in given for w in wanted)
            else:  # StringNotLike
                ok = not any(wildcard_match(w, g) for g in given for w in wanted)
            if not ok:
                return False
    return True


def statement_applies(
    statement: dict[str, Any],
    action: str,
    resource: str,
    context: dict[str, list[str]],
    missing: list[str],
) -> bool:
    """Whether one policy statement covers `action` on `resource` in `context`."""
    try:
        if "Action" in statement:
            if not any(wildcard_match(a, action, True) for a in _as_list(statement["Action"])):
                return False
        elif "NotAction" in statement:
            if any(wildcard_match(a, action, True) for a in _as_list(statement["NotAction"])):
                return False
        else:
            return False
        if "Resource" in statement:
            if not any(
                _matches_pattern(r, resource, context, False)
                for r in _as_list(statement["Resource"])
            ):
                return False
        elif "NotResource" in statement:
            if any(
                _matches_pattern(r, resource, context, False)
                for r in _as_list(statement["NotResource"])
            ):
                return False
    except UnknownVariable as unknown:
        missing.append(str(unknown))
        return False
    return _condition_holds(statement.get("Condition", {}), context, missing)


def evaluate(
    policies: Iterable[tuple[str, str, Any]],
    action: str,
    resource: str,
    context: dict[str, list[str]],
) -> dict[str, Any]:
    """One EvaluationResult: `policies` are (policy id, policy type, document) triples."""
    allowed: list[dict[str, str]] = []
    denied: list[dict[str, str]] = []
    missing: list[str] = []
    for policy_id, policy_type, document in policies:
        for statement in _as_list(document.get("Statement")):
            if not isinstance(statement, dict):
                continue
            if statement_applies(statement, action, resource, context, missing):
                matched = {"SourcePolicyId": policy_id, "SourcePolicyType": policy_type}
                (denied if statement.get("Effect") == "Deny" else allowed).append(matched)
    if denied:
        decision, matched = "explicitDeny", denied
    elif allowed:
        decision, matched = "allowed", allowed
    else:
        decision, matched = "implicitDeny", []
    result: dict[str, Any] = {
        "EvalActionName": action,
        "EvalResourceName": resource,
        "EvalDecision": decision,
        "MatchedStatements": matched,
        "MissingContextValues": sorted(set(missing)) if decision != "allowed" else [],
    }
    return result


def _document(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    text = str(raw)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return json.loads(unquote(text))


def _managed_document(policy: Any) -> dict[str, Any]:
    for version in getattr(policy, "versions", []):
        if version.is_default:
            return _document(version.document)
    return _document(getattr(policy, "document", "{}"))


def principal_policies(backend: Any, arn: str) -> tuple[list[tuple[str, str, Any]], str | None]:
    """The identity-based policies of the user or role named by `arn`, and the user's name.

    Raises moto's NoSuchEntity for an unknown principal (via the backend's lookups)."""
    match = _ARN_RE.fullmatch(arn)
    if match is None:
        raise ValueError(arn)
    kind, name = match.group(3), match.group(4)
    policies: list[tuple[str, str, Any]] = []
    if kind == "user":
        user = backend.get_user(name)
        holders = [("user", user)] + [("group", g) for g in backend.get_groups_for_user(name)]
        user_name: str | None = user.name
    else:
        holders = [("role", backend.get_role(name))]
        user_name = None
    for _, holder in holders:
        for policy_name, raw in holder.policies.items():
            policies.append((policy_name, "IAM Policy", _document(raw)))
        for policy in holder.managed_policies.values():
            policies.append((policy.arn, "IAM Policy", _managed_document(policy)))
    return policies, user_name


def install(lock: Any, paginate: Callable[[list[Any], Any, Any], tuple[list[Any], str | None]]) -> None:
    """Adds SimulatePrincipalPolicy to moto's IAM response handler. Idempotent.

    `lock` guards moto's state (the strict bench's lock); `paginate` is its Marker/MaxItems
    paging, so markers look alike across actions."""
    from moto.core.responses import ActionResult
    from moto.iam.exceptions import IAMException
    from moto.iam.responses import IamResponse

    if getattr(IamResponse, "_simulator_installed", False):
        return

    def simulate_principal_policy(self: Any) -> Any:
        source = self._get_param("PolicySourceArn")
        actions = self._get_param("ActionNames", []) or []
        resources = self._get_param("ResourceArns", []) or ["*"]
        if not source or not actions:
            raise IAMException(
                "InvalidInput", "PolicySourceArn and ActionNames are required."
            )
        match = _ARN_RE.fullmatch(str(source))
        if match is None:
            raise IAMException("InvalidInput", f"Invalid PolicySourceArn: {source}")
        if match.group(2) != self.current_account:
            raise IAMException("NoSuchEntity", f"The principal {source} cannot be found.")
        context: dict[str, list[str]] = {}
        for entry in self._get_param("ContextEntries", []) or []:
            key = str(entry.get("ContextKeyName", "")).lower()
            context[key] = [str(v) for v in _as_list(entry.get("ContextKeyValues"))]
        with lock:
            policies, user_name = principal_policies(self.backend, str(source))
        if user_name is not None:
            context.setdefault("aws:username", [user_name])
        results = [
            evaluate(policies, str(action), str(resource), context)
            for action in actions
            for resource in resources
        ]
        page, marker = paginate(
            results, self._get_param("Marker"), self._get_param("MaxItems")
        )
        answer: dict[str, Any] = {"EvaluationResults": page, "IsTruncated": marker is not None}
        if marker is not None:
            answer["Marker"] = marker
        return ActionResult(answer)

    simulate_principal_policy.__name__ = "simulate_principal_policy"
    IamResponse.simulate_principal_policy = simulate_principal_policy
    IamResponse._simulator_installed = True
