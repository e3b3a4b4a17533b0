"""Strings from a submission, made inert where they land in the files the grader writes.

A student id (a folder name), a file name, a learner's error message: each was written by
someone who may want it to act when an instructor opens a report. So each one goes through
one of these before it is written:

    csv_cell(text)        a spreadsheet shows it as text: control characters removed (terminal
                          escapes, carriage returns that forge a row), and a leading = + - @
                          gets an apostrophe so that it is never run as a formula
    plain_text(text)      one line of printable text: control characters removed, whitespace
                          folded (for a reason, a progress line, a terminal)
    markdown_text(text)   Markdown that shows the text as it is: Markdown's and HTML's special
                          characters escaped, so it opens no tag, link, header or table cell
    code_block(text)      a fenced block the text cannot close: the fence is longer than any
                          run of backticks or tildes in it
    safe_filename(name)   a file name for any id: the id when it is a safe name, otherwise a
                          readable part of it and a hash (the id itself is kept inside the file)

Standard library only. Other reports (HTML, an LMS's CSV) use these, or escape for their own
format (``html.escape``).
"""
from __future__ import annotations

import hashlib
import re
import unicodedata

__all__ = ["csv_cell", "plain_text", "markdown_text", "code_block", "safe_filename", "strip_controls"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_ANSI = re.compile(r"\x1b(\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)?|[@-Z\\-_])")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>&~^$:\"'=])")
MAX_NAME_BYTES = 120


def strip_controls(text, keep_newlines: bool = False) -> str:
    """``text`` without terminal escape sequences and control or format characters (Unicode
    categories Cc, Cf: bidirectional overrides included); newlines kept only when asked."""
    text = _ANSI.sub("", str(text))
    out = []
    for char in text:
        if char == "\n" and keep_newlines:
            out.append(char)
        elif char == "\t":
            out.append(" ")
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Zl", "Zp"):
            continue
        else:
            out.append(char)
    return "".join(out)


def plain_text(text, limit: int | None = None) -> str:
    """One line of printable text."""
    text = " ".join(strip_controls(text).split())
    return text if limit is None or len(text) <= limit else text[:max(limit - 3, 0)] + "..."


def csv_cell(text) -> str:
    """A CSV cell a spreadsheet shows as text, on one line (None: an empty cell)."""
    text = plain_text("" if text is None else text)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def markdown_text(text) -> str:
    """Inline Markdown (and the HTML it may hold) that shows ``text`` literally, on one line."""
    text = plain_text(text)
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def code_block(text, language: str = "text") -> str:
    """A fenced code block holding ``text`` (control characters removed) that nothing in it can
    close: the fence is a run of backticks longer than any run of backticks in the text."""
    body = strip_controls(text, keep_newlines=True)
    longest = max((len(run) for run in re.findall(r"`+", body)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{language}\n{body}\n{fence}"


def safe_filename(name, suffix: str = "") -> str:
    """A file name for ``name`` on any common file system: the name itself when it is plain
    (letters, digits, ``. _ - @ +``, other scripts' letters, not starting with '.', at most
    MAX_NAME_BYTES bytes), otherwise its readable part and a hash of the whole name."""
    name = str(name)
    plain = (name and not name.startswith((".", "-")) and len(name.encode("utf-8")) <= MAX_NAME_BYTES
             and all(c.isalnum() or c in "._-@+" for c in name) and name not in (".", ".."))
    if plain and unicodedata.normalize("NFC", name) == name:
        return name + suffix
    readable = "".join(c if (c.isascii() and (c.isalnum() or c in "._-")) else "_" for c in name)
    readable = readable.strip("._-")[:60] or "student"
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return f"{readable}-{digest}{suffix}"
