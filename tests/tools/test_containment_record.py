"""The sandbox's warnings keep no record in module state: the machine's missing layers are named by its probe
(once per process, since the probe runs once), and a run names only a layer it lacks that the probe had."""

from __future__ import annotations

import logging

from rolegraph.tools import containment

ALL_LAYERS = tuple(containment.LAYERS)
WITHOUT_SECCOMP = tuple(layer for layer in ALL_LAYERS if layer != "seccomp")
RLIMITS_ONLY = ("rlimits", "process-group")


def _warned(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]


def test_the_module_holds_no_mutable_state():
    mutable = {
        name
        for name, value in vars(containment).items()
        if not name.startswith("__")
        if isinstance(value, (set, list, dict)) or hasattr(value, "cache_info")  # a functools.cache'd holder too
    }
    assert mutable == set()


def test_warn_missing_says_each_missing_layer_each_time_it_is_asked(caplog):
    """Stateless: the probe asks once per process; asking twice says it twice (no hidden 'already said')."""
    with caplog.at_level(logging.WARNING, logger=containment.LOGGER.name):
        first = containment.warn_missing(WITHOUT_SECCOMP, {"seccomp": "no filter here"})
        second = containment.warn_missing(WITHOUT_SECCOMP)
    assert first == second == ["seccomp"]
    lines = _warned(caplog)
    assert len(lines) == 2 and all("layer 'seccomp' is not in force" in line for line in lines)
    assert "(no filter here)" in lines[0] and "\n" not in lines[0]


def test_a_run_names_only_the_layers_it_lost_since_the_probe(caplog):
    with caplog.at_level(logging.WARNING, logger=containment.LOGGER.name):
        same = containment.warn_lost(RLIMITS_ONLY, RLIMITS_ONLY)  # missing as probed: the probe said so already
        lost = containment.warn_lost(WITHOUT_SECCOMP, ALL_LAYERS, {"seccomp": "filter failed to load"})
    assert "seccomp" in same and lost == ["seccomp"]
    lines = _warned(caplog)
    assert len(lines) == 1 and "'seccomp' is not in force in this run" in lines[0] and "filter failed" in lines[0]
