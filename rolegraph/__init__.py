"""rolegraph: compose LLM agents into role graphs, run them on LangGraph, and search for the best graph."""

from rolegraph.errors import RolegraphError
from rolegraph.items import AnswerKey, Item
from rolegraph.settings import Settings

__all__ = ["RolegraphError", "AnswerKey", "Item", "Settings"]
__version__ = "0.1.0"
