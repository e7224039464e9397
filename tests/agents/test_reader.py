"""The extractive reader's steps on made-up passages (not the example's measured questions)."""
from rolegraph.agents.reader import answer_type, best_sentences, candidates, choose

HITS = [
    {"title": "Zorblatt engine", "text": "The Zorblatt engine is a steam machine. It was first built in 1843 in Leeds."},
    {"title": "Ada Quillfeather", "text": "Ada Quillfeather was an English engineer. She designed the Zorblatt engine."},
    {"title": "Leeds", "text": "Leeds is a city in West Yorkshire."},
]


def test_answer_types():
    assert answer_type("In which year was the Zorblatt engine built?") == "year"
    assert answer_type("How many wheels does it have?") == "number"
    assert answer_type("Who designed the Zorblatt engine?") == "name"


def test_best_sentences_prefer_shared_words_and_higher_ranked_passages():
    best = best_sentences("Who designed the Zorblatt engine?", HITS)
    assert best[0] == ("She designed the Zorblatt engine.", "Ada Quillfeather")


def test_candidates_of_the_right_type_titles_first_no_descriptions():
    q = "Who designed the Zorblatt engine?"
    cands = candidates(q, best_sentences(q, HITS), [h["title"] for h in HITS])
    assert cands[0] == "Ada Quillfeather"  # the passage about her ("She designed ...") names the answer
    assert "English" not in cands and "Zorblatt" not in " ".join(cands[:1])
    year_q = "In which year was the Zorblatt engine first built?"
    assert candidates(year_q, best_sentences(year_q, HITS))[0] == "1843"


def test_choose_keeps_the_model_only_when_the_evidence_supports_it():
    sentences = ["She designed the Zorblatt engine."]
    cands = ["Ada Quillfeather", "Leeds"]
    assert choose("Leeds", cands, sentences) == ("Leeds", "model")
    assert choose("The answer is: Ada Quillfeather.", cands, sentences) == ("Ada Quillfeather", "model")
    assert choose("1", cands, sentences) == ("Ada Quillfeather", "extractive")  # the old "The answer is: 1"
    assert choose("", [], sentences) == (None, "none")
