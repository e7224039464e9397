"""A database that is not a results store is refused naming its tables: all of them when there are at most four,
else the first four and "..." (the listing says whether it is whole)."""
import sqlite3

import pytest

from rolegraph.evaluate.store import ResultsStore, StoreError


def other_database(path, tables: int):
    with sqlite3.connect(path) as db:
        for i in range(1, tables + 1):
            db.execute(f"CREATE TABLE t{i} (x)")
    db.close()
    return path


@pytest.mark.parametrize(("tables", "shown"), [(4, "t1, t2, t3, t4)"), (5, "t1, t2, t3, t4, ...)")])
def test_the_refusal_names_the_tables_and_says_when_there_are_more(tmp_path, tables, shown):
    path = other_database(tmp_path / "other.sqlite", tables)
    with pytest.raises(StoreError) as refused:
        ResultsStore(path)
    assert f"an SQLite database with other tables: {shown};" in str(refused.value)
