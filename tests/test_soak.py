"""A shortened soak: memory holds steady frame over frame through the whole pipeline."""

import pytest

from benchmarks.soak import soak


@pytest.mark.soak
def test_memory_holds_steady_over_a_minute_of_rendering():
    result = soak(60, backend="cpu", size=(320, 180), report=lambda m: None)
    assert result["frames"] > 300
    # A leak of one 320×180 RGB frame per frame would be ~170 MiB per 1000 frames.
    assert result["rss_end_mib"] - result["rss_start_mib"] < 25, result["samples"]
    assert result["growth_mib_per_1000_frames"] < 5
