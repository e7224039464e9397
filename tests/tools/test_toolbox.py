"""The default toolbox: calculator, python and search, the search index built lazily."""
from __future__ import annotations

import asyncio

import pytest

from rolegraph.settings import Settings
from rolegraph.tools.local_search import WIKI_INDEX_NAME
from rolegraph.tools.toolbox import ToolBox, default_toolbox
from rolegraph.tools.web_search import WebSearch

CORPUS = [{"title": "Hotpot", "text": "A hotpot is a stew of meat and vegetables."}]


def test_default_tools_and_no_index_built_at_construction(tmp_path):
    settings = Settings(home=tmp_path)
    box = default_toolbox(settings)
    assert box.names == ["calculator", "python", "search"] and len(box) == 3 and "python" in box
    assert not settings.index_dir.exists()
    schemas = box.openai_schemas()
    assert [s["function"]["name"] for s in schemas] == box.names
    assert box.openai_schemas(["search", "nope"])[0]["function"]["parameters"]["required"] == ["query"]
    assert "CALL calculator" in box.describe(["calculator"]) and "- python" not in box.describe(["calculator"])


def test_calls_by_name_with_dict_or_json_text(tmp_path):
    box = default_toolbox(Settings(home=tmp_path), corpus=CORPUS)

    async def calls():
        return await asyncio.gather(box.call("calculator", {"expression": "17*23"}),
                                    box.call("calculator", '{"expression": "2^5"}'),
                                    box.call("search", {"query": "stew"}),
                                    box.call("python", {"code": "print('hi')"}),
                                    box.call("nope", {}),
                                    box.call("calculator", "{not json"),
                                    box.call("calculator", "[1, 2]"))

    calc, calc_json, search, python, unknown, bad_json, not_object = asyncio.run(calls())
    assert calc.text == "391" and calc_json.text == "32"
    assert search.ok and search.data[0].title == "Hotpot"
    assert python.ok and python.text == "hi\n"
    assert not unknown.ok and "calculator, python, search" in unknown.text
    assert not bad_json.ok and "not valid JSON" in bad_json.text
    assert not not_object.ok and "JSON object" in not_object.text


def test_wiki_search_builds_lazily_on_first_search(wiki_settings):
    box = default_toolbox(wiki_settings)
    out = asyncio.run(box.call("search", {"query": "who discovered penicillin", "k": 3}))
    assert out.ok and out.data[0].title in {"Penicillin", "Alexander Fleming"}
    assert (wiki_settings.index_dir / WIKI_INDEX_NAME).is_file()


def test_web_search_variant_has_the_local_fallback(tmp_path):
    box = default_toolbox(Settings(home=tmp_path), web=True)
    backend = box.get("search").backend
    assert isinstance(backend, WebSearch) and backend.fallback is not None
    assert not (tmp_path / "index").exists()


def test_duplicate_names_are_refused(tmp_path):
    box = default_toolbox(Settings(home=tmp_path), corpus=CORPUS)
    with pytest.raises(ValueError, match="calculator"):
        ToolBox([box["calculator"], box["calculator"]])
