"""Options several commands share, spelled once."""

from __future__ import annotations

ALLOW_WEAK_SANDBOX = "--allow-weak-sandbox"
ALLOW_WEAK_SANDBOX_HELP = (
    "Run model code (the python tool, HumanEval scoring) even where the sandbox has neither namespaces nor its "
    "seccomp filter (rlimits only: the code can reach the network). Off: such code is refused with one line."
)
