"""A tiny HotpotQA-format file for staged-search tests: invented two-hop questions, each with its
two supporting paragraphs and two distractors, so a searcher finds the evidence in the task's corpus."""
from __future__ import annotations

import json
from pathlib import Path

PLACES = ["Varnholt", "Quillmere", "Ostrava Minor", "Bellcaster", "Dunmarrow", "Ketterby", "Lowenfall", "Marisport",
          "Nettlecombe", "Pellwick", "Rookhaven", "Sablecross", "Thornwick", "Umberlee", "Wexmoor", "Yarrowdale"]
FOUNDERS = ["Ada Brenholm", "Cyrus Delacourt", "Edda Falkner", "Gideon Hartsell", "Ivo Jessup", "Kara Lindqvist",
            "Milo Norcross", "Odile Prewitt", "Quentin Ravel", "Sela Tormund", "Ulric Vance", "Wren Ashby",
            "Yusuf Zamora", "Bryn Caddick", "Dara Elphick", "Fenn Gorse"]
YEARS = list(range(1801, 1817))


def write_qa_fixture(path: Path, n: int = 16) -> Path:
    records = []
    for i in range(n):
        place, founder, year = PLACES[i % len(PLACES)], FOUNDERS[i % len(FOUNDERS)], YEARS[i % len(YEARS)]
        other = PLACES[(i + 5) % len(PLACES)]
        records.append({
            "_id": f"qa{i:03d}",
            "question": f"In which year was the founder of {place} born?",
            "answer": str(year),
            "type": "bridge",
            "level": "easy",
            "supporting_facts": [[place, 0], [founder, 0]],
            "context": [
                [place, [f"{place} is a market town founded by {founder}."]],
                [founder, [f"{founder} was born in {year} and later founded {place}."]],
                [other, [f"{other} is a fishing village on the northern coast."]],
                [f"{other} Abbey", [f"{other} Abbey was rebuilt in {year + 40}."]],
            ],
        })
    path.write_text(json.dumps(records))
    return path
