"""`make_backend`: the raw client of a pool entry, by its backend (the hub wraps it in its layers, `hub.py`).

Apart from the hub so that its module stays under the size limit; `rolegraph.models.hub` still exports it.
"""

from __future__ import annotations

from rolegraph.chat.spec import ModelSpec
from rolegraph.chat.types import ChatModel
from rolegraph.settings import Settings
from rolegraph.sim.model import SimChatModel


def make_backend(spec: ModelSpec, settings: Settings) -> ChatModel:
    """The raw (uncached) client for one spec."""
    if spec.backend == "sim":
        return SimChatModel(spec, settings)
    if spec.backend == "local":
        from rolegraph.models.local import LocalChatModel

        return LocalChatModel(spec, settings)
    from rolegraph.models.openai_backend import OpenAIChatModel

    return OpenAIChatModel(spec, settings)
