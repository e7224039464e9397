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
    for blank in ("", " \n"):  # a required text field with nothing in it is malformed, like a missing one
        with pytest.raises(DataFileError, match=r"^f:1: field 'q' is empty; expected JSONL"):
            field_str({"q": blank}, "q", "f:1", FMT)
    assert [optional_str({"a": v}, "a") for v in (" x ", "", 2, None)] == ["x", None, "2", None]
    for wrong in (True, [1], {"x": 1}):
        with pytest.raises(DataFileError, match=r"^f:1: field 'a' should be text or a number, got \w+ .*; expected JSONL"):
            optional_str({"a": wrong}, "a", "f:1", FMT)


def test_a_record_read_from_jsonl_names_its_line_in_field_errors(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"a": "ok"}\n\n{"a": false}\n')
    records = [record for _, record in read_jsonl(path, FMT)]
    assert optional_str(records[0], "a") == "ok"
    with pytest.raises(DataFileError, match=rf"^{path}:3: field 'a' should be text or a number, got bool false; "
                                            r"expected JSONL \{question, answer\}$"):
        optional_str(records[1], "a")


def test_a_byte_order_mark_is_not_part_of_the_first_record(tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + '{"question": "q1"}\n{"question": "q2"}\n'.encode())
    assert [record["question"] for _, record in read_jsonl(path, FMT)] == ["q1", "q2"]
    whole = tmp_path / "bom.json"
    whole.write_bytes(b"\xef\xbb\xbf" + b'[{"question": "q1"}]')
    assert read_json(whole, FMT) == [{"question": "q1"}]


def test_an_empty_data_path_is_a_missing_one_not_the_current_directory(tmp_path, monkeypatch):
    """`--data ""` (an unset shell variable) would be Path('.'), an existing directory: the error must say that
    --data is needed, not that the current directory is one."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataFileError, match=r"^task 't' needs --data PATH"):
        require_file("", "t", FMT, allow_dir=True)


def test_a_data_path_under_the_home_directory_may_start_with_a_tilde(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "d.jsonl").write_text("{}\n")
    assert require_file("~/d.jsonl", "t", FMT) == tmp_path / "d.jsonl"


def test_a_bad_line_of_exactly_the_shown_length_is_quoted_whole(tmp_path):
    """MAX_SHOWN_CHARS (60) characters are shown as they are; only a longer line is cut and marked '...'."""
    line = "{" + "x" * 59
    path = tmp_path / "sixty.jsonl"
    path.write_text(line + "\n")
    with pytest.raises(DataFileError) as info:
        list(read_jsonl(path, FMT))
    assert f"{line!r}" in str(info.value) and "..." not in str(info.value)


def test_a_boolean_is_not_text_in_a_required_field():
    """JSON true where a question belongs is a malformed record, not the question 'True'."""
    with pytest.raises(DataFileError, match="field 'q' should be text, got bool"):
        field_str({"q": True}, "q", "f:1", FMT)
