"""watch (runs in their own processes, never overlapping) and serve (cache, single flight)."""

from __future__ import annotations


def test_serve_status_mapping():
    from acore_doctor.ops.serve import HTTP_BY_STATUS, HTTP_UNKNOWN

    assert (HTTP_BY_STATUS["healthy"], HTTP_BY_STATUS["warning"]) == (200, 200)
    assert HTTP_BY_STATUS["critical"] == 503 and HTTP_UNKNOWN == 500
