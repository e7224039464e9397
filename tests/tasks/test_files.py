import pytest

from rolegraph.errors import DataFileError
from rolegraph.tasks.files import field_str, optional_str, read_json, read_jsonl, require_file

FMT = "JSONL {question, answer}"


def test_require_file_explains_what_is_missing(tmp_path):
    with pytest.raises(DataFileError, match=r"task 't' needs --data PATH: a JSONL \{question, answer\} file"):
        require_file(None, "t", FMT)
    with pytest.raises(DataFileError, match="no such file"):
        require_file(tmp_path / "gone.jsonl", "t", FMT)
    assert require_file(tmp_path, "t", FMT, allow_dir=True) == tmp_path


def test_non_utf8_text_is_a_data_error(tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes('{"question": "caf\u00e9"}\n'.encode("latin-1"))
    with pytest.raises(DataFileError, match="not UTF-8"):
        list(read_jsonl(path, FMT))
    with pytest.raises(DataFileError, match="not UTF-8"):
        read_json(path, FMT)


def test_long_bad_lines_are_quoted_short(tmp_path):
    path = tmp_path / "long.jsonl"
    path.write_text("{" + "x" * 500 + "\n")
    with pytest.raises(DataFileError) as info:
        list(read_jsonl(path, FMT))
    message = str(info.value)
    assert ":1:" in message and "x" * 100 not in message and "..." in message


def test_field_helpers():
    assert field_str({"q": 3}, "q", "f:1", FMT) == "3"
    with pytest.raises(DataFileError, match="field 'q' should be text, got list"):
        field_str({"q": ["a"]}, "q", "f:1", FMT)
    assert [optional_str({"a": v}, "a") for v in (" x ", "", 2, None, True, [1])] == ["x", None, "2", None, None,
                                                                                     None]
