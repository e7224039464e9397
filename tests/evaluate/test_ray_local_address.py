"""`local` asks Ray for a local instance, whether given as --ray-address or in $RAY_ADDRESS: it is not an address
to check, and a failure to start it says so rather than naming a cluster at 'local'. An address is refused for the
local executor; one Ray worker is allowed, none is not."""
import pytest

from rolegraph.errors import RolegraphError
from rolegraph.evaluate.executors import RayExecutor, _effective_address, _init_error, make_executor


def test_local_in_ray_address_is_no_cluster_to_check(monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", "local")
    assert _effective_address(None) is None and _effective_address("auto") is None
    assert _effective_address("local") is None


def test_a_local_instance_that_fails_to_start_says_so():
    error = _init_error("local", None, RuntimeError("no room"))
    assert str(error) == "cannot start a local Ray instance: no room"


def test_an_address_without_ray_is_refused_and_one_worker_is_enough():
    with pytest.raises(RolegraphError, match="--ray-address is for --executor ray"):
        make_executor("local", address="ray://head:10001")
    assert RayExecutor(workers=1).workers == 1
    with pytest.raises(ValueError, match="workers must be at least 1"):
        RayExecutor(workers=0)
