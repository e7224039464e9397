"""A graph's picture is the same in every process: node positions and PNG bytes do not depend on PYTHONHASHSEED."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from rolegraph.graphs.io import load_graph
from rolegraph.graphs.render import layout

EXAMPLES = Path(__file__).parents[2] / "examples" / "graphs"
GRAPHS = ("vote5.yaml", "mindsearch.yaml")
HASH_SEEDS = ("0", "1", "2", "3")  # with sets of node ids, at least two of these orders differed
TIMEOUT_S = 120

POSITIONS = """
import json, sys
from rolegraph.graphs.io import load_graph
from rolegraph.graphs.render import layout
print(json.dumps({name: layout(load_graph(name)) for name in sys.argv[1:]}, sort_keys=True))
"""

PNG = """
import sys
from rolegraph.graphs.io import load_graph
from rolegraph.graphs.render import render_png
render_png(load_graph(sys.argv[1]), sys.argv[2])
"""


def _run(code: str, args: list[str], hash_seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env,
                          timeout=TIMEOUT_S)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_positions_are_the_same_whatever_the_hash_seed():
    paths = [str(EXAMPLES / name) for name in GRAPHS]
    outputs = {seed: _run(POSITIONS, paths, seed) for seed in HASH_SEEDS}
    assert len(set(outputs.values())) == 1, outputs


def test_nodes_of_one_level_are_stacked_in_the_spec_order_first_on_top():
    pos = layout(load_graph(EXAMPLES / "vote5.yaml"))
    solvers = ["s1", "s2", "s3", "s4", "s5"]  # vote5.yaml's order
    assert len({pos[s][0] for s in solvers}) == 1  # one level, one column
    heights = [pos[s][1] for s in solvers]
    assert all(upper > lower for upper, lower in zip(heights, heights[1:])), heights
    assert pos["fuse"][0] > pos["s1"][0]


def test_png_bytes_are_the_same_under_two_hash_seeds(tmp_path):
    pictures = []
    for seed in HASH_SEEDS[:2]:
        out = tmp_path / f"vote5-{seed}.png"
        _run(PNG, [str(EXAMPLES / "vote5.yaml"), str(out)], seed)
        pictures.append(out.read_bytes())
    assert pictures[0] == pictures[1]
