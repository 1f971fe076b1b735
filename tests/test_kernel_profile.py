"""benchmarks.kernel_profile: numba's symbols named for perf, and perf's report read back;
and the kernels' chroma upsampling row (rewritten after that profile) against the reference."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks import kernel_profile as kp
from chromakey.keying import reference as cpu
from chromakey.keying.kernels import kernel
from chromakey.keying.kernels.pixels import _upsample_row


def test_demangle_gives_module_and_function():
    name = "_ZN9chromakey6keying7kernels6pixels11_key_pixelsB3v61B56c8tJTIeFIjxE5ArrayIfLi1E"
    assert kp.demangle(name) == "pixels._key_pixels"
    assert kp.demangle("NRT_decref") == "NRT_decref"


def test_perf_map_names_the_kernels_functions_at_their_addresses(tmp_path):
    kernel()  # loads (or compiles) the frame kernel and everything it calls
    path = kp.write_perf_map(tmp_path / "perf.map")
    rows = [line.split(" ", 2) for line in path.read_text().splitlines()]
    starts = [int(a, 16) for a, _, _ in rows]
    sizes = [int(s, 16) for _, s, _ in rows]
    names = {n for _, _, n in rows}
    assert starts == sorted(starts) and all(s > 0 for s in sizes)
    # Symbols do not overlap: each ends where the next begins, or before.
    assert all(a + s <= b for a, s, b in zip(starts[:-1], sizes[:-1], starts[1:], strict=True))
    for fn in ("pixels._key_pixels", "pixels._decode_rows", "frame._band", "guide._guide"):
        assert kp.PREFIX + fn in names


def test_report_is_read_per_numba_function():
    text = """# Samples: 3K of event 'cpu-clock'
#
    40.00%  1200  [.] numba:pixels._key_pixels
    10.00%   300  [.] numba:pixels._key_pixels
    30.00%   900  [.] _PyEval_EvalFrameDefault
    20.00%   600  [k] clear_page_erms
"""
    counts = kp.parse_report(text)
    assert counts == {"pixels._key_pixels": 1500, kp.OUTSIDE: 1500}
    rows = kp.table(counts, renders=3, seconds=0.3, timed=2)
    assert "| pixels._key_pixels | 50.0% |" in rows


@pytest.mark.parametrize("centred", [False, True])
def test_upsample_row_is_the_references_columns(centred):
    rng = np.random.default_rng(0)
    for w in range(1, 41):
        for cw in range(1, (w + 1) // 2 + 3):  # fewer, as many and more chroma columns
            c = rng.random((1, cw), dtype=np.float32)
            out = np.full(w, np.nan, np.float32)
            _upsample_row(c[0], out, 2, centred)
            want = cpu.upsample_chroma(c, 2, 1, w, 1, centred)[0]
            np.testing.assert_array_equal(out, want, err_msg=f"w={w} cw={cw}")


def test_bad_input_is_one_line_and_exit_status_2(tmp_path, capsys):
    assert kp.main([str(tmp_path / "none.mp4")]) == 2
    assert capsys.readouterr().err.strip().count("\n") == 0
    clip = tmp_path / "c.mp4"
    clip.write_bytes(b"\0")
    assert kp.main([str(clip), "-b", "#zz"]) == 2
    err = capsys.readouterr().err.strip()
    assert "invalid colour '#zz'" in err and "\n" not in err
