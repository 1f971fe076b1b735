#!/usr/bin/env bash
# The GPU check (issue 26), for a machine with an NVIDIA GPU and no network. From a copy of
# the project with .whl/ and .gl/ as /work/shared/gpu-check/prepare.sh packs them:
#
#     OUT=/some/folder bash benchmarks/gpu_check.sh
#
# 1. installs the GL loader debs (dpkg -x into /, as root) and the wheels (into $GPU_CHECK_SITE,
#    /tmp/site) unless GPU_CHECK_INSTALL=0; points glvnd at NVIDIA's EGL vendor file;
# 2. gates: prints the EGL renderer, vendor and version and stops (exit 6, one line on stderr)
#    unless it is the NVIDIA driver, so that llvmpipe's numbers never pass for the GPU's;
# 3. runs tests/test_gpu_*.py (CI=1: a test that finds no context fails, not skips), while
#    the clips are made and numba's CPU kernels compiled into their cache on other cores;
# 4. chromakey bench --backends gpu,cpu --gpu-passes at 1080p and at 4K (the 1080p sample
#    scaled up, benchmarks.big_clip: the ground-truth renderer takes seconds a 4K frame);
# 5. benchmarks.gpu_streams: concurrent 1080p30 LiveCompositors (the 2 s sample played 3
#    times), the largest count with ≤ 1 % of frames not shown after a 1 s warm-up.
#
# A dry run elsewhere: GPU_CHECK_EXPECT=Mesa (the gate's driver), GPU_CHECK_SMALL=1 (tiny clips
# and two stream counts), GPU_CHECK_TESTS="tests/…" (the test files), GPU_CHECK_INSTALL=0.
#
# Each step has its own time limit (timeout); together at most 400 s (6.7 minutes). Seven files
# under $OUT: summary.txt (each step's status and time, the renderer), pytest.txt, bench.txt,
# bench-1080p.json, bench-2160p.json, streams.txt, streams.json. Exit status: 6 when the
# context is not NVIDIA's, 1 when a later step failed or ran out of time, 0 otherwise.
set -uo pipefail
: "${OUT:?set OUT to the folder for the results}"
mkdir -p "$OUT"
cd "$(dirname "$0")/.." || exit 70
SITE=${GPU_CHECK_SITE:-/tmp/site}
WORK=${GPU_CHECK_WORK:-/tmp/ckbench}
mkdir -p "$WORK"
summary=$OUT/summary.txt
: >"$summary"
failed=0

say() { echo "$*" | tee -a "$summary"; }

# step NAME SECONDS LOG COMMAND…: the command under timeout, its output appended to LOG.
step() {
  local name=$1 limit=$2 log=$3 t0=$SECONDS rc
  shift 3
  timeout -k 5 "$limit" "$@" >>"$log" 2>&1
  rc=$?
  report "$name" "$limit" "$rc" $((SECONDS - t0))
  return "$rc"
}

report() {  # NAME LIMIT RC SECONDS
  local how=ok
  if [ "$3" -eq 124 ] || [ "$3" -eq 137 ]; then how="ran out of its $2 s"; elif [ "$3" -ne 0 ]; then how="failed (exit $3)"; fi
  [ "$3" -eq 0 ] || failed=1
  say "$1: $how, $4 s"
}

# 1. what prepare.sh carried
if [ "${GPU_CHECK_INSTALL:-1}" != 0 ]; then
  if compgen -G ".gl/*.deb" >/dev/null; then
    step "GL loaders (.gl)" 20 "$summary" bash -c 'for f in .gl/*.deb; do dpkg -x "$f" / || exit; done; ldconfig'
  fi
  if compgen -G ".whl/*.whl" >/dev/null; then
    step "wheels (.whl)" 30 "$summary" python3 -m pip install -q --no-index --no-deps --no-compile --target "$SITE" .whl/*.whl
  fi
fi
export PYTHONPATH=$SITE:$PWD${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
# No network: pip (tests/test_gpu_wheel.py builds a wheel) fails at once instead of retrying.
export PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# Sizes: the real ones, or a dry run's.
if [ "${GPU_CHECK_SMALL:-0}" = 1 ]; then
  base=64x48 big=128x96 counts=1,2
else
  base=1080p big=2160p counts=1,8,16,20,24,32,40
fi
read -r -a tests <<<"${GPU_CHECK_TESTS:-$(echo tests/test_gpu_*.py)}"
if [ -z "${__EGL_VENDOR_LIBRARY_FILENAMES:-}" ]; then
  for f in /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json /usr/share/glvnd/egl_vendor.d/10_nvidia.json; do
    if [ -f "$f" ]; then export __EGL_VENDOR_LIBRARY_FILENAMES=$f; break; fi
  done
fi

# 2. the gate: NVIDIA's driver or nothing
gate=$(timeout -k 5 20 python3 -m benchmarks.gpu_gate --expect "${GPU_CHECK_EXPECT:-NVIDIA}" 2>&1)
rc=$?
if [ "$rc" -ne 0 ]; then
  line=$(printf '%s\n' "$gate" | grep -m1 '^error:' || printf '%s\n' "$gate" | tail -n 1)
  echo "gate: ${line:-no output (exit $rc)}" >>"$summary"
  echo "${line:-error: the GL gate failed (exit $rc) without a word}" >&2
  [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && exit 6
  exit "$rc"
fi
say "$gate"

# 3. the GPU tests; meanwhile the clips and numba's cache, on other cores
clip=(python3 -m benchmarks.big_clip --workdir "$WORK" --base "$base")
(step "clips" 110 "$OUT/bench.txt" env BIG="$big" BASE="$base" \
  bash -c '"$@" --size "$BIG" && "$@" --size "$BASE" --loops 3' bash "${clip[@]}") &
clips=$!
(step "numba cache" 110 "$OUT/bench.txt" python3 -c "from chromakey.keying.kernels import CpuKeyer
from chromakey.core.params import KeyerParams
CpuKeyer(KeyerParams()).warm(64, 48)") &
numba=$!
step "tests (${#tests[@]} files)" 110 "$OUT/pytest.txt" env CI=1 python3 -m pytest -q -p no:cacheprovider --durations=10 "${tests[@]}"
wait "$clips" || failed=1
wait "$numba" || failed=1

# 4. bench at 1080p and 4K, GPU and CPU, with the GPU's time per pass
bench=(--rounds 1 --no-mp4 --no-pipe --backends gpu,cpu --gpu-passes --workdir "$WORK")
step "bench $base" 70 "$OUT/bench.txt" python3 -m chromakey bench --sizes "$base" --seconds 2 "${bench[@]}" --json "$OUT/bench-1080p.json"
big_clip=$(ls "$WORK"/speed_*_to_"${big}"_x1.mp4 2>/dev/null | head -n 1)
if [ -n "$big_clip" ]; then
  step "bench $big" 80 "$OUT/bench.txt" python3 -m chromakey bench "$big_clip" "${bench[@]}" --json "$OUT/bench-2160p.json"
else
  say "bench $big: no clip (see the clips step in bench.txt)"
  failed=1
fi

# 5. concurrent 1080p30 streams on this GPU
long=$(ls "$WORK"/speed_*_to_"${base}"_x3.mp4 2>/dev/null | head -n 1)
step "streams" 70 "$OUT/streams.txt" python3 -m benchmarks.gpu_streams --size "$base" ${long:+--clip "$long"} \
  --counts "$counts" --budget 60 --workdir "$WORK" --json "$OUT/streams.json"

say "done in $SECONDS s; $([ "$failed" -eq 0 ] && echo 'every step passed' || echo 'a step failed: see above')"
exit "$failed"
