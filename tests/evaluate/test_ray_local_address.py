"""`local` asks Ray for a local instance, whether given as --ray-address or in $RAY_ADDRESS: it is not an address
to check, and a failure to start it says so rather than naming a cluster at 'local'."""
from rolegraph.evaluate.executors import _effective_address, _init_error


def test_local_in_ray_address_is_no_cluster_to_check(monkeypatch):
    monkeypatch.setenv("RAY_ADDRESS", "local")
    assert _effective_address(None) is None and _effective_address("auto") is None
    assert _effective_address("local") is None


def test_a_local_instance_that_fails_to_start_says_so():
    error = _init_error("local", None, RuntimeError("no room"))
    assert str(error) == "cannot start a local Ray instance: no room"
