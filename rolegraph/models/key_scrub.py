"""Keys kept out of messages: `scrub_key` and its limits, apart from the backend that uses them (`openai_backend`,
whose module was at the size limit), so a message quoting a wrong key, or part of one, never prints it."""

from __future__ import annotations

import re

KEY_LIKE = re.compile(r"\b(sk|key|rk)-[A-Za-z0-9_\-*.]{6,}")
"""Anything shaped like a key, scrubbed whoever's it is (a server quoting another credential)."""
MIN_KEY_FRAGMENT = 6
"""A run of at least this many characters of the key, anywhere in a message (a server quoting a key's head
before its asterisks), is scrubbed too: short enough to catch a quoted part, long enough to be no accident."""
MIN_KEY_END = 4
"""The key's first or last characters, this many or more, standing alone are scrubbed too: OpenAI quotes a wrong
key by its first 8 and last 4 (`sk-SECRE***...3456`)."""


def scrub_key(text: str, key: str, min_run: int = MIN_KEY_FRAGMENT) -> str:
    """`text` with the key, every run of at least `min_run` of its characters, and its head or tail of `MIN_KEY_END`
    or more not inside a longer word (`...3456` goes; a port 34567, or `localhost` for a key `local-...`, stays)
    replaced by `***`.

    A key shorter than `min_run` (a local server's placeholder: `x`, `none`, `dummy`) is replaced only where it
    stands alone, not inside a longer word or number: replacing it everywhere turned `exceeds` into `e***ceeds` in
    every message for the key `x`. A key that short is no secret worth hiding and cannot be told from words."""
    if not key:  # replacing "" would put `***` between every two characters
        return text
    if len(key) < min_run:
        return re.sub(rf"(?<![A-Za-z0-9]){re.escape(key)}(?![A-Za-z0-9])", "***", text)
    text = text.replace(key, "***")
    grams = {key[i : i + min_run] for i in range(len(key) - min_run + 1)}
    out: list[str] = []
    i = 0
    while i < len(text):
        if text[i : i + min_run] not in grams:
            out.append(text[i])
            i += 1
            continue
        end = i + min_run
        while end < len(text) and text[i : end + 1] in key:  # the longest run of the key starting here
            end += 1
        out.append("***")
        i = end
    ends = {key[:i] for i in range(MIN_KEY_END, len(key))} | {key[-i:] for i in range(MIN_KEY_END, len(key))}
    either = "|".join(re.escape(e) for e in sorted(ends, key=len, reverse=True))
    return re.sub(rf"(?<![A-Za-z0-9])(?:{either})(?![A-Za-z0-9])", "***", "".join(out)) if ends else "".join(out)
