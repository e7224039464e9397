"""The loopback serve-sim fixtures are shared with the model-layer tests."""
from tests.models.conftest import serve, server, settings  # noqa: F401
