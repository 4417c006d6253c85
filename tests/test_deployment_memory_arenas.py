"""The processes `start` and `runservice` launch run with at most two malloc arenas (ocrsite/ops.py), which
bounds the memory that waiting request threads keep after decoding a page."""

from ocrsite import ops
from recognition.engines.runtime import RolePlan


def test_children_get_two_malloc_arenas_unless_set():
    assert ops.role_environment(RolePlan("web", 1, 1), base={})["MALLOC_ARENA_MAX"] == "2"
    assert ops.role_environment(RolePlan("worker", 1, 1), base={"MALLOC_ARENA_MAX": "4"})["MALLOC_ARENA_MAX"] == "4"
