"""Fuzzed graph files: whatever a user (or a broken generator) writes, the CLI answers exit 0 for a
graph that really is valid, or exit 2 with a clear first line, and never a traceback.

Most examples run the CLI in-process (fast); a few run it as a real process, where stdout has a
real encoding and a string the terminal cannot take would surface as a crash.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from rolegraph.graphs.io import MAX_GRAPH_FILE_BYTES, MAX_NESTING_DEPTH, load_graph
from rolegraph.graphs.validate import validate_graph
from rolegraph.models.pool import ModelPool

from .conftest import ROOT, assert_clean_user_error, cli, cli_process, examples

FIXTURES = ROOT / "tests" / "graphs" / "fixtures"
VALID_YAML = (FIXTURES / "valid_vote3.yaml").read_text()
VALID_JSON = (FIXTURES / "valid_vote3.json").read_text()
ROLES = ("solver", "verifier", "fuser", "planner", "searcher")
MODELS = ("sim/llama-3.2-1b", "sim/llama-3.2-3b", "sim/llama-3.1-8b")
SUFFIXES = (".yaml", ".yml", ".json", ".txt", "")
FUZZ = settings(max_examples=examples(60), deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

# Characters that break naive code: NUL and controls, bidi overrides, zero-width joiners, combining
# marks, a BOM, line separators, astral-plane emoji, and lone surrogates (only JSON can carry those).
ODD_CHARS = ["\x00", "\x07", "\x1b[31m", "\u202e", "\u200d", "\u0301", "\ufeff", "\u2028", "\U0001f600",
             "\ud800", "\udfff", "\n", "\t", " ", "'", '"', "\\", "{", "[", "#", ":", "&", "*", "!", "%", "|"]
odd_text = st.lists(st.one_of(st.sampled_from(ODD_CHARS), st.text(max_size=3)), max_size=6).map("".join)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), odd_text)
junk = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                     st.dictionaries(odd_text, inner, max_size=3)), max_leaves=8)


def _write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass"))
    return path


def _encode(data, fmt: str) -> str:
    """JSON (lone surrogates become \\uXXXX escapes) or YAML (which cannot carry them)."""
    if fmt == "json":
        return json.dumps(data, ensure_ascii=True, allow_nan=True)
    return yaml.safe_dump(data, allow_unicode=False, sort_keys=False)


def _check(path: Path, command: str = "validate") -> None:
    """The property: valid -> exit 0 and the graph really validates; otherwise a clean exit 2."""
    run = cli([command, path])
    if run.code == 0:
        assert "Traceback" not in run.err and run.err == ""
        spec = load_graph(path)
        assert validate_graph(spec, ModelPool.builtin()) == []
        if command == "validate":
            assert run.out.startswith("ok: ") and len(run.out.splitlines()) == 1
    else:
        assert_clean_user_error(run)


@st.composite
def graph_documents(draw):
    """Graph-shaped documents with wrong types, odd ids, dangling or cyclic edges mixed in."""
    n = draw(st.integers(0, 6))
    ids = draw(st.lists(st.one_of(st.sampled_from(["a", "b", "c", "out"]), odd_text, st.integers(-2, 3)),
                        min_size=n, max_size=n))
    nodes = []
    for node_id in ids:
        node = {"id": node_id,
                "role": draw(st.one_of(st.sampled_from(ROLES), odd_text, scalars)),
                "model": draw(st.one_of(st.sampled_from(MODELS), odd_text, scalars))}
        if draw(st.booleans()):
            node["params"] = draw(st.one_of(
                st.fixed_dictionaries({}, optional={"temperature": scalars, "max_tokens": scalars,
                                                    "tools": st.one_of(junk, st.lists(odd_text, max_size=2))}),
                junk))
        for key in draw(st.lists(st.sampled_from(["id", "role", "model"]), max_size=1)):
            node.pop(key, None)  # a missing field
        if draw(st.integers(0, 9)) == 0:
            node[draw(odd_text)] = draw(junk)  # an unknown field
        nodes.append(node if draw(st.integers(0, 9)) else draw(junk))
    pick = st.one_of(st.sampled_from(ids), odd_text) if ids else odd_text
    edges = draw(st.lists(st.one_of(st.tuples(pick, pick).map(list), junk), max_size=8))
    doc: dict = {"nodes": nodes if draw(st.integers(0, 9)) else draw(junk)}
    if draw(st.booleans()):
        doc["edges"] = edges
    if draw(st.booleans()):
        doc["output"] = draw(pick)
    if draw(st.integers(0, 4)) == 0:
        doc["name"] = draw(scalars)
    if draw(st.integers(0, 9)) == 0:
        doc[draw(odd_text)] = draw(junk)
    return doc


@FUZZ
@given(doc=graph_documents(), fmt=st.sampled_from(["json", "yaml"]))
def test_graph_shaped_documents(tmp_path, doc, fmt):
    try:
        text = _encode(doc, fmt)
    except (UnicodeEncodeError, yaml.YAMLError):
        assume(False)
    _check(_write(tmp_path, f"g.{fmt}", text))


@FUZZ
@given(doc=graph_documents())
def test_show_never_crashes_on_graph_shaped_documents(tmp_path, doc):
    _check(_write(tmp_path, "g.json", _encode(doc, "json")), command="show")


@FUZZ
@given(data=st.binary(max_size=400), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes(tmp_path, data, suffix):
    assert_clean_user_error(cli(["validate", _write(tmp_path, f"g{suffix}", data)]))


@st.composite
def mutated(draw):
    """A valid file with a few characters deleted, duplicated or replaced."""
    fmt = draw(st.sampled_from(["yaml", "json"]))
    text = VALID_YAML if fmt == "yaml" else VALID_JSON
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, max(0, len(text) - 1)))
        op = draw(st.sampled_from(["delete", "dup", "replace", "insert"]))
        if op == "delete":
            text = text[:i] + text[i + draw(st.integers(1, 8)):]
        elif op == "dup":
            text = text[:i] + text[i:i + 12] + text[i:]
        else:
            new = draw(st.one_of(st.sampled_from([c for c in ODD_CHARS if c not in ("\ud800", "\udfff")]),
                                 st.text(max_size=2)))
            text = text[:i] + new + text[i + (op == "replace"):]
    return fmt, text


@FUZZ
@given(case=mutated())
def test_mutated_valid_files(tmp_path, case):
    fmt, text = case
    _check(_write(tmp_path, f"g.{fmt}", text))


@st.composite
def cyclic_graphs(draw):
    """Valid nodes and a DAG, plus one edge that closes a cycle (a self-loop included)."""
    n = draw(st.integers(1, 7))
    ids = [f"n{i}" for i in range(n)]
    nodes = [{"id": i, "role": draw(st.sampled_from(["solver", "fuser"])), "model": MODELS[0]} for i in ids]
    edges = [[ids[a], ids[b]] for a in range(n) for b in range(a + 1, n) if draw(st.integers(0, 2)) == 0]
    edges += [[ids[a], ids[a + 1]] for a in range(n - 1) if [ids[a], ids[a + 1]] not in edges]  # a path 0..n-1
    lo = draw(st.integers(0, n - 1))
    hi = draw(st.integers(lo, n - 1))
    edges.append([ids[hi], ids[lo]])  # back along the path: a cycle
    return {"nodes": nodes, "edges": draw(st.permutations(edges))}


@FUZZ
@given(doc=cyclic_graphs(), fmt=st.sampled_from(["json", "yaml"]))
def test_cycles_are_named(tmp_path, doc, fmt):
    first = assert_clean_user_error(cli(["validate", _write(tmp_path, f"g.{fmt}", _encode(doc, fmt))]))
    text = first.lower()
    assert "cycle" in text or "loop" in text or "problems" in text, first


@FUZZ
@given(depth=st.integers(MAX_NESTING_DEPTH, 50_000), opener=st.sampled_from(["[", "{\"k\":"]),
       where=st.sampled_from(["top", "params", "id"]), fmt=st.sampled_from(["json", "yaml"]))
def test_deep_nesting(tmp_path, depth, opener, where, fmt):
    closer = "]" if opener == "[" else "}"
    deep = opener * depth + "1" + closer * depth
    if where == "top":
        text = deep
    else:
        node = '{"id": %s, "role": "solver", "model": "%s"%s}' % (
            deep if where == "id" else '"a"', MODELS[0], f', "params": {{"x": {deep}}}' if where == "params" else "")
        text = '{"nodes": [%s]}' % node
    size = len(text.encode())
    run = cli(["validate", _write(tmp_path, f"g.{fmt}", text)])
    first = assert_clean_user_error(run)
    assert "nested too deeply" in first or (size > MAX_GRAPH_FILE_BYTES and "too large" in first) \
        or "not valid" in first, first


@settings(max_examples=4, deadline=None, derandomize=True)
@given(n=st.integers(2_000, 6_000), shape=st.sampled_from(["chain", "fan", "isolated"]))
def test_huge_graphs_are_checked_or_refused_quickly(tmp_path_factory, n, shape):
    ids = [f"n{i}" for i in range(n)]
    nodes = [{"id": i, "role": "solver", "model": MODELS[0]} for i in ids]
    if shape == "chain":
        edges = [[ids[i], ids[i + 1]] for i in range(n - 1)]
    elif shape == "fan":
        edges = [[i, ids[-1]] for i in ids[:-1]]
    else:
        edges = []
    path = _write(tmp_path_factory.mktemp("huge"), "g.json", json.dumps({"nodes": nodes, "edges": edges}))
    run = cli(["validate", path])
    if shape == "isolated":  # thousands of sinks: one clear problem, not thousands of lines
        first = assert_clean_user_error(run)
        assert len(run.err) < 20_000, len(run.err)
        assert "sink" in first or "problems" in first or "output" in first
    else:
        assert run.code in (0, 2), run.err[-2000:]
        if run.code == 2:
            assert_clean_user_error(run)
            assert len(run.err) < 20_000


def test_file_over_the_size_cap_is_refused_before_parsing(tmp_path):
    path = _write(tmp_path, "big.yaml", "nodes: []\n" + "#" * (MAX_GRAPH_FILE_BYTES + 10))
    assert "too large" in assert_clean_user_error(cli(["validate", path]))


# --- real processes: real stdio encodings, real exit path ---------------------------------------

ODD_ID_CASES = {
    "lone_surrogate": '{"nodes": [{"id": "\\ud800", "role": "solver", "model": "%s"}]}' % MODELS[0],
    "nul_and_escape": '{"nodes": [{"id": "a\\u0000\\u001b[2J", "role": "solver", "model": "%s"}]}' % MODELS[0],
    "bidi_override": '{"nodes": [{"id": "\\u202eevil", "role": "solver", "model": "%s"}]}' % MODELS[0],
}


def _assert_process_ok_or_clean(run) -> None:
    assert "Traceback" not in run.err, run.err[-3000:]
    assert run.code in (0, 2), (run.code, run.err[-2000:])
    if run.code == 2:
        assert_clean_user_error(run)


@pytest.mark.parametrize("case", sorted(ODD_ID_CASES))
def test_odd_ids_run_in_process(tmp_path, case):
    run = cli(["run", _write(tmp_path, "g.json", ODD_ID_CASES[case]), "--task", "gsm", "--json"])
    assert run.code in (0, 2), run.err[-2000:]
    if run.code == 2:
        assert_clean_user_error(run)
    else:
        assert json.loads(run.out)["nodes"][0]["id"] == json.loads(ODD_ID_CASES[case])["nodes"][0]["id"]


@pytest.mark.parametrize("case", ["lone_surrogate", "bidi_override"])
def test_odd_ids_through_a_real_process(tmp_path, case):
    path = _write(tmp_path, "g.json", ODD_ID_CASES[case])
    _assert_process_ok_or_clean(cli_process(["show", path], env={"ROLEGRAPH_HOME": str(tmp_path / "home")}))


@pytest.mark.parametrize("name, text", [("deep.json", "[" * 100_000), ("tab.yaml", "nodes:\n\t- x"),
                                        ("empty.json", "")])
def test_broken_files_as_processes(tmp_path, name, text):
    run = cli_process(["validate", _write(tmp_path, name, text)], env={"ROLEGRAPH_HOME": str(tmp_path / "home")})
    assert_clean_user_error(run)


@pytest.mark.parametrize("doc", [
    {"nodes": None, "\n": None},  # found by the long fuzz run: an unknown field named by a line break
    {"nodes": [{"id": "a\nb", "role": "x", "model": MODELS[0]}]},
    {"nodes": [{"id": "a", "role": "solver", "model": "m\r\nX"}]},
    {"nodes": [{"id": "a", "role": "solver", "model": MODELS[0]}], "edges": [["a", "b\nc"]]},
])
def test_line_breaks_in_user_text_stay_on_one_line(tmp_path, doc):
    for command in ("validate", "eval"):
        args = [command, _write(tmp_path, "g.json", _encode(doc, "json"))] + (["--task", "gsm"] if command == "eval" else [])
        assert_clean_user_error(cli(args))
