#!/usr/bin/env python3
"""Checks the documentation's links and the README's shape, so a moved page can't leave readers
at a dead end.

- Every relative link in README.md, SECURITY.md and docs/**/*.md resolves: the file or folder
  exists, and a #fragment names a heading of the target page by its GitHub anchor (lower case,
  punctuation dropped, spaces as hyphens, -1, -2 ... for repeats). Links in code blocks and code
  spans are not links; http(s) and mailto links are not followed.
- README.md has at most README_LIMIT lines, and an "Install" heading within its first
  INSTALL_WITHIN lines.

Prints every problem found, as FILE:LINE, and exits 1 if there is any.
"""
import os
import re
import sys
import unicodedata
from urllib.parse import unquote

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
README_LIMIT = 220
INSTALL_WITHIN = 40

FENCE = re.compile(r"^\s{0,3}(```|~~~)")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
# [text](target) and ![alt](target), the target up to a space (a title may follow) or ')'.
INLINE = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+[\"'(][^)]*)?\)")
# [label]: target, a reference definition.
REFERENCE = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
CODE_SPAN = re.compile(r"(`+)(.+?)\1")
HTML_COMMENT = re.compile(r"<!--.*?-->")
EXTERNAL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


def pages():
    """The pages checked, relative to the repository."""
    found = [p for p in ("README.md", "SECURITY.md") if os.path.isfile(os.path.join(ROOT, p))]
    for dirpath, dirs, files in os.walk(os.path.join(ROOT, "docs")):
        dirs.sort()
        for name in sorted(files):
            if name.endswith(".md"):
                found.append(os.path.relpath(os.path.join(dirpath, name), ROOT))
    return found


def prose_lines(text):
    """(line number, line) outside code blocks, with code spans and HTML comments blanked."""
    fence = None
    previous = ""  # the line before, "" when blank
    in_indented = False
    for number, line in enumerate(text.split("\n"), 1):
        opening = FENCE.match(line)
        if fence:
            if opening and opening.group(1) == fence and not line.strip()[3:].strip("`~ "):
                fence = None
            previous = line
            continue
        if opening:
            fence = opening.group(1)
            previous = line
            continue
        # An indented code block starts after a blank line, with four spaces or a tab. (A list
        # item's continuation indented that far is skipped too: a missed link, never a false one.)
        indented = line.startswith(("    ", "\t")) and line.strip() != ""
        in_indented = indented and (in_indented or previous.strip() == "")
        previous = line
        if in_indented:
            continue
        line = HTML_COMMENT.sub("", line)
        yield number, CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line)


def slug(heading):
    """GitHub's anchor for a heading's text."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links: their text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = text.replace("`", "").lower()
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if ch in " -_" or category[0] in "LN" or category == "Mn":
            kept.append("-" if ch == " " else ch)
    return "".join(kept)


_anchors = {}


def anchors(path):
    """The anchors of a page's headings, repeats numbered as GitHub numbers them."""
    if path not in _anchors:
        seen = {}
        result = set()
        fence = None
        with open(path, encoding="utf-8") as f:
            for line in f.read().split("\n"):
                opening = FENCE.match(line)
                if fence:
                    if opening and opening.group(1) == fence:
                        fence = None
                    continue
                if opening:
                    fence = opening.group(1)
                    continue
                m = HEADING.match(line)
                if not m:
                    continue
                base = slug(m.group(2))
                n = seen.get(base, 0)
                seen[base] = n + 1
                result.add(base if n == 0 else f"{base}-{n}")
        _anchors[path] = result
    return _anchors[path]


def check_link(page, number, target, problems):
    if not target or EXTERNAL.match(target) or target.startswith("//"):
        return
    path_part, _, fragment = target.partition("#")
    path_part = unquote(path_part)
    here = os.path.dirname(os.path.join(ROOT, page))
    if not path_part:
        dest = os.path.join(ROOT, page)
    elif path_part.startswith("/"):
        dest = os.path.join(ROOT, path_part.lstrip("/"))
    else:
        dest = os.path.normpath(os.path.join(here, path_part))
    where = f"{page}:{number}"
    if not os.path.exists(dest):
        problems.append(f"{where}: {target}: no such file ({os.path.relpath(dest, ROOT)})")
        return
    if not os.path.realpath(dest).startswith(os.path.realpath(ROOT) + os.sep):
        problems.append(f"{where}: {target}: outside the repository")
        return
    if fragment:
        if os.path.isdir(dest) or not dest.endswith(".md"):
            problems.append(f"{where}: {target}: #{fragment} on a file that is not a Markdown page")
        elif unquote(fragment).lower() not in anchors(dest):
            problems.append(
                f"{where}: {target}: no heading with the anchor #{fragment} in "
                f"{os.path.relpath(dest, ROOT)}"
            )


def check_page(page, problems):
    with open(os.path.join(ROOT, page), encoding="utf-8") as f:
        text = f.read()
    links = 0
    for number, line in prose_lines(text):
        targets = [m.group(1) for m in INLINE.finditer(line)]
        ref = REFERENCE.match(line)
        if ref:
            targets.append(ref.group(1))
        for target in targets:
            if target and not EXTERNAL.match(target) and not target.startswith("//"):
                links += 1
                check_link(page, number, target, problems)
    return links


def check_readme(problems):
    path = os.path.join(ROOT, "README.md")
    if not os.path.isfile(path):
        problems.append("README.md: missing")
        return 0, None
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if len(lines) > README_LIMIT:
        problems.append(f"README.md: {len(lines)} lines, more than {README_LIMIT}")
    install = [
        number
        for number, line in prose_lines("\n".join(lines))
        if (m := HEADING.match(line)) and m.group(2).strip().lower() == "install"
    ]
    if not install:
        problems.append('README.md: no "Install" heading')
    elif install[0] > INSTALL_WITHIN:
        problems.append(
            f'README.md:{install[0]}: the "Install" heading is past line {INSTALL_WITHIN}'
        )
    return len(lines), (install[0] if install else None)


def main():
    problems = []
    checked = pages()
    links = sum(check_page(page, problems) for page in checked)
    lines, install = check_readme(problems)
    where = f"at line {install}" if install else "missing"
    print(
        f"links: {len(checked)} pages, {links} relative links checked; README.md {lines} lines "
        f"(at most {README_LIMIT}), its Install heading {where} (within {INSTALL_WITHIN})"
    )
    for problem in problems:
        print(problem)
    if problems:
        print(f"links: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
