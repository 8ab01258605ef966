#!/usr/bin/env python3
"""Checks the shape of the source tree that ../shared/HOUSE.md draws, so it can't drift unseen.

- Each top-level part of src/ uses only the floors below it (FLOORS, bottom first); test code
  (tests.rs files, test modules in their own folders) may use anything.
- No import cycle between the modules of one folder (src/cli/*, src/mfa/*, ...), test code aside.
- src/cli/ (arguments, words, exit codes) no larger than the ratchet CLI_CEILING (the goal is
  CLI_GOAL), no file in it over FILE_LIMIT.
- No module named helper/util/manager/common; no #[path] anywhere in src/, tests/ or hardware-tests/.

Prints what it measured (lines, modules, imports, levels) and exits 1 on any breach.
"""
import collections
import os
import re
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SRC = os.path.join(ROOT, "src")
# Bottom first. A part may use parts on lower floors only; parts on one floor don't use each other.
FLOORS = [
    ["transport", "timestamp", "aws_config", "layout", "terminal"],
    ["seed"],
    ["oath"],
    ["token", "iam"],
    ["mfa", "doctor"],
    ["cli"],
]
# The goal is CLI_GOAL; CLI_CEILING is a ratchet that can only come down (lower it whenever the cli
# shrinks for good).
CLI_GOAL = 3000
CLI_CEILING = 2984
FILE_LIMIT = 450
BANNED = {"helper", "helpers", "util", "utils", "manager", "common"}


def rust_files(top):
    for dirpath, _, files in os.walk(top):
        for name in sorted(files):
            if name.endswith(".rs"):
                yield os.path.join(dirpath, name)


def is_test(rel):
    parts = rel.split("/")
    return parts[-1] == "tests.rs" or "tests" in parts[:-1]


def strip_comments(text):
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)


def module_of(rel):
    """src-relative path -> module path: 'mfa/revoke/mod.rs' -> ('mfa', 'revoke')."""
    parts = rel[:-3].split("/")
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def uses(text, here):
    """Module paths this file refers to, resolved to absolute (crate-rooted) tuples."""
    found = set()
    for m in re.finditer(r"\b(crate|ykmfa|super)((?:::\w+)+)", text):
        head, tail = m.group(1), [p for p in m.group(2).split("::") if p]
        if head == "super":
            base = list(here[:-1])
            while tail and tail[0] == "super":
                base, tail = base[:-1], tail[1:]
            path = tuple(base + tail)
        elif head == "ykmfa":
            path = tuple(tail)
        else:
            # crate:: is the lib root, or in the binary its root, where cli/ lives: the same tree.
            path = tuple(tail)
        found.add(path)
    return found


def main():
    errors = []
    floor_of = {part: i for i, floor in enumerate(FLOORS) for part in floor}
    files = {}
    for path in rust_files(SRC):
        rel = os.path.relpath(path, SRC).replace(os.sep, "/")
        files[rel] = open(path, encoding="utf-8").read()

    # Modules that exist, to resolve a use path to the longest module prefix.
    modules = {module_of(rel) for rel in files}
    source_modules = {module_of(rel) for rel in files if not is_test(rel)}

    def owner(path):
        for n in range(len(path), 0, -1):
            if path[:n] in modules:
                return path[:n]
        return None

    part_edges = collections.defaultdict(set)
    sibling_edges = collections.defaultdict(set)
    imports = 0
    for rel, text in files.items():
        if rel in ("lib.rs", "main.rs") or is_test(rel):
            continue
        here = module_of(rel)
        body = strip_comments(re.split(r"#\[cfg\(test\)\]\s*mod tests;", text)[0])
        for target in uses(body, here):
            mod = owner(target)
            if not mod or mod[0] == here[0] and mod[:2] == here[:2]:
                continue
            imports += 1
            if mod[0] != here[0]:
                part_edges[here[0]].add(mod[0])
            elif len(here) > 1 and len(mod) > 1 and mod[1] != here[1]:
                sibling_edges[(here[0], here[1])].add((mod[0], mod[1]))

    for part, targets in sorted(part_edges.items()):
        for target in sorted(targets):
            if part not in floor_of or target not in floor_of:
                errors.append(f"src/{part} or src/{target} is on no floor of bench/house.py")
            elif floor_of[target] >= floor_of[part]:
                errors.append(f"src/{part} uses src/{target}, which is not on a floor below it")

    # Cycles among the modules of one folder.
    def cycle_from(start, graph):
        stack, seen = [(start, [start])], set()
        while stack:
            node, trail = stack.pop()
            for nxt in graph.get(node, ()):
                if nxt == start:
                    return trail + [nxt]
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append((nxt, trail + [nxt]))
        return None

    reported = set()
    for node in sorted(sibling_edges):
        cycle = cycle_from(node, sibling_edges)
        if cycle and frozenset(cycle) not in reported:
            reported.add(frozenset(cycle))
            errors.append("import cycle: " + " -> ".join("/".join(m) for m in cycle))

    cli_lines = 0
    for rel, text in sorted(files.items()):
        n = text.count("\n")
        if rel.startswith("cli/"):
            cli_lines += n
            if n > FILE_LIMIT:
                errors.append(f"src/{rel} has {n} lines (src/cli/ files stay under {FILE_LIMIT})")
        stem = os.path.basename(rel)[:-3]
        if stem in BANNED or any(p in BANNED for p in rel.split("/")[:-1]):
            errors.append(f"src/{rel}: a module named after no domain thing")
    if cli_lines > CLI_CEILING:
        errors.append(f"src/cli/ has {cli_lines} lines, more than the ratchet's {CLI_CEILING}")

    for top in ("src", "tests", "hardware-tests"):
        for path in rust_files(os.path.join(ROOT, top)):
            if re.search(r"^\s*#\[path\s*=", open(path, encoding="utf-8").read(), re.M):
                errors.append(f"{os.path.relpath(path, ROOT)}: #[path] (one layout: foo/tests.rs)")

    depth = {}

    def level(part):
        if part not in depth:
            depth[part] = 0
            depth[part] = 1 + max((level(t) for t in part_edges.get(part, ())), default=-1)
        return depth[part]

    parts = sorted({m[0] for m in modules if m})
    levels = max((level(p) for p in parts), default=0) + 1
    print(
        f"house: {len(parts)} top-level parts on {levels} levels, {len(source_modules)} modules, "
        f"{imports} cross-module uses; src/cli/ {cli_lines} lines (goal {CLI_GOAL}, ratchet {CLI_CEILING})"
    )
    for part in parts:
        print(f"  {part:<11} uses {', '.join(sorted(part_edges.get(part, ()))) or '-'}")
    for (part, module), targets in sorted(sibling_edges.items()):
        if part == "cli" and os.environ.get("HOUSE_VERBOSE"):
            print(f"  cli/{module} uses " + ", ".join("/".join(t) for t in sorted(targets)))
    for e in errors:
        print("house: " + e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
