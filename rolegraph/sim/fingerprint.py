"""The simulator's fingerprint: a hash of every file that decides what a simulated model answers.

Two runs with the same fingerprint, world and seed give the same simulated answers (the world is not
part of the fingerprint: results keep both); results stored
beside a fingerprint (benchmark truth tables, run provenance) are stale once it changes.
"""

from __future__ import annotations

import hashlib
from functools import cache
from importlib import resources

ANSWER_FILES = (
    ("rolegraph.models", ("builtin_pool.yaml",)),
    ("rolegraph", ("answers.py", "transcript.py")),
    ("rolegraph.agents", ("parsers.py", "registry.py")),
)
"""Files outside `rolegraph.sim` that shape a simulated answer: the pool's sizes, parsing, the prompts' layout."""
SERVING_ONLY = frozenset({"server.py", "server_thread.py", "faults.py", "fingerprint.py", "__init__.py"})
"""Files of `rolegraph.sim` that change how answers are served, not what they are."""
DIGEST_CHARS = 16


@cache
def sim_fingerprint() -> str:
    """The digest of the simulator's answer-deciding files (computed once per process: they do not change
    under a running process)."""
    h = hashlib.sha256()
    sim = resources.files("rolegraph.sim")
    for entry in sorted(sim.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".py") and entry.name not in SERVING_ONLY:
            h.update(entry.name.encode())
            h.update(entry.read_bytes())
    for package, names in ANSWER_FILES:
        for name in names:
            h.update(resources.files(package).joinpath(name).read_bytes())
    for prompt in sorted(resources.files("rolegraph.agents").joinpath("prompts").iterdir(), key=lambda p: p.name):
        h.update(prompt.read_bytes())
    return h.hexdigest()[:DIGEST_CHARS]
