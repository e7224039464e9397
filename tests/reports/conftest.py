"""Reports render search runs: the search tests' pool and task fixtures are shared."""
from tests.optimize.conftest import pool, settings, small_task  # noqa: F401
