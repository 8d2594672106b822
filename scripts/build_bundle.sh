#!/usr/bin/env bash
# Builds the one-folder PyInstaller bundle dist/AudioNetStudio/ from build.spec, then smoke-tests a COPY of it
# in another place (a temporary folder whose path has a space), with an empty HOME and no source tree in reach:
#   1. AudioNetStudio --version
#   2. AudioNetStudio --self-test   (window offscreen + demo: convert, train small_cnn 2 epochs, identify a file)
#      and again on Xvfb with Qt's xcb platform plugin (as on a desktop), when xvfb-run is installed
#   3. audionet train ... --kind chroma   (the bundled CLI; chroma exercises the librosa stack)
#   4. audionet predict MODEL conversation.wav --json
#   5. audionet export MODEL --tflite OUT.tflite   (the TFLite converter's libraries)
#   6. audionet devices   (sounddevice + PortAudio load; "no input device" is fine on a machine without sound)
# and prints the build time and the bundle's size. Exit status 0 = built and every check passed.
#
# Usage: scripts/build_bundle.sh [--no-build]      (--no-build: smoke-test the existing dist/AudioNetStudio)
# Environment: BUNDLE_DIST (default dist), BUNDLE_WORK (default build), KEEP_SMOKE_DIR=1 keeps the copy.
# Takes a few minutes on 2 cores; nothing here is part of the test suite.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

build=1
[ "${1:-}" = "--no-build" ] && build=0
dist=${BUNDLE_DIST:-dist}
work=${BUNDLE_WORK:-build}
py=.venv/bin/python

[ -x "$py" ] || scripts/setup.sh
if ! "$py" -c "import PyInstaller" 2>/dev/null; then
  echo "build_bundle: installing PyInstaller (the 'bundle' extra of pyproject.toml)"
  "$py" -m pip install -q -e ".[bundle]"
fi

if [ "$build" = 1 ]; then
  echo "build_bundle: building with $("$py" -m PyInstaller --version) (log: $work/pyinstaller.log)"
  mkdir -p "$work"
  start=$(date +%s)
  if ! "$py" -m PyInstaller --noconfirm --clean --log-level WARN --distpath "$dist" --workpath "$work" \
      build.spec >"$work/pyinstaller.log" 2>&1; then
    tail -40 "$work/pyinstaller.log" >&2
    echo "build_bundle: PyInstaller failed" >&2
    exit 1
  fi
  build_s=$(( $(date +%s) - start ))
  echo "build_bundle: built $dist/AudioNetStudio in ${build_s} s"
fi
bundle="$dist/AudioNetStudio"
[ -x "$bundle/AudioNetStudio" ] || { echo "build_bundle: no bundle at $bundle" >&2; exit 1; }

# Left-out packages must really be out (a hook or a new import can bring them back).
for pkg in matplotlib IPython tkinter pandas; do
  if [ -e "$bundle/_internal/$pkg" ]; then
    echo "build_bundle: $pkg is in the bundle although build.spec excludes it" >&2
    exit 1
  fi
done

# --- smoke test, on a copy somewhere else --------------------------------------------------------------
smoke=$(mktemp -d /tmp/audionet-bundle-smoke.XXXXXX)
if [ "${KEEP_SMOKE_DIR:-0}" != 1 ]; then
  trap 'rm -rf "$smoke"' EXIT
fi
app_dir="$smoke/unpacked here/AudioNetStudio"
mkdir -p "$(dirname "$app_dir")" "$smoke/home"
cp -a "$bundle" "$app_dir"
app="$app_dir/AudioNetStudio"
cli="$app_dir/audionet"
demo="$app_dir/_internal/resources/demo"

# A user's environment, not ours: empty HOME, no venv, no PYTHONPATH, no source tree, started from /.
run() {
  (cd / && env -i PATH=/usr/bin:/bin HOME="$smoke/home" LANG=C.UTF-8 QT_QPA_PLATFORM="${qpa:-offscreen}" \
    TF_CPP_MIN_LOG_LEVEL=2 "$@")
}
failed=()
step() {  # step NAME COMMAND...: run and time it; on failure show the log's tail and go on with the next step
  local name=$1; shift
  local t0=$(date +%s)
  if run "$@" >"$smoke/$name.log" 2>&1; then
    echo "build_bundle: smoke $name: ok ($(( $(date +%s) - t0 )) s)"
  else
    echo "build_bundle: smoke $name: FAILED (exit $?), last lines of its output:" >&2
    grep -v -e '^[IW]0000 ' -e 'absl::InitializeLog' "$smoke/$name.log" | tail -15 | sed 's/^/    | /' >&2
    failed+=("$name")
  fi
}

step version "$app" --version
step self-test "$app" --self-test
# The pipeline check logs "identified <clip> as <label>" whether frozen.py or the app's own self_test runs it.
if ! grep -q -e "self-test: pipeline ok" -e "self-test: identified " "$smoke/self-test.log"; then
  echo "build_bundle: the self-test did not pass the pipeline check" >&2
  failed+=("self-test-pipeline")
fi
grep "self-test:" "$smoke/self-test.log" | sed 's/^/    /'

# The same on a real X server (Xvfb): the bundled xcb platform plugin and its libraries must load.
if command -v xvfb-run >/dev/null; then
  qpa=xcb step self-test-xcb xvfb-run -a -s "-screen 0 1280x800x24" "$app" --self-test
else
  echo "build_bundle: smoke self-test-xcb: skipped (no xvfb-run; apt-get install xvfb xauth)"
fi

step cli-train "$cli" train "$demo/train" --test-dir "$demo/test" --out "$smoke/cli-model" \
  --backbone small_cnn --weights none --epochs 2 --image-size 64x64 --window 1.0 --hop 0.5 --kind chroma \
  --workspace "$smoke/workspace" --cache-dir "$smoke/features" --quiet
step cli-predict "$cli" predict "$smoke/cli-model" "$demo/conversation.wav" --json
"$py" - "$smoke/cli-predict.log" <<'EOF' || failed+=("cli-predict-json")
import json, sys
lines = [l for l in open(sys.argv[1], encoding="utf-8") if l.startswith("{")]
result = json.loads(lines[-1])
print(f"    predict: {result.get('file', '?').rsplit('/', 1)[-1]} -> {result.get('label')} "
      f"({len(result.get('timeline', []))} timeline segments)")
EOF

step cli-export "$cli" export "$smoke/cli-model" --tflite "$smoke/model.tflite"
[ -s "$smoke/model.tflite" ] || { echo "build_bundle: export wrote no .tflite" >&2; failed+=("cli-export-file"); }

# No sound card here: exit 1 with "no audio input device" is the right answer; a crash or a missing PortAudio is not.
set +e
run "$cli" devices >"$smoke/devices.log" 2>&1
devices_rc=$?
set -e
if [ "$devices_rc" -gt 1 ] || grep -q -e Traceback -e "PortAudio library not found" "$smoke/devices.log"; then
  echo "build_bundle: smoke devices: FAILED (exit $devices_rc):" >&2; tail -15 "$smoke/devices.log" >&2
  failed+=("devices")
else
  echo "build_bundle: smoke devices: ok ($(head -1 "$smoke/devices.log"))"
fi

size_h=$(du -sh "$bundle" | cut -f1)
size_mb=$(( $(du -sk "$bundle" | cut -f1) / 1024 ))
echo "build_bundle: bundle $bundle: $size_h (${size_mb} MiB, $(find "$bundle" -type f | wc -l) files)"
if command -v tar >/dev/null && [ "${MEASURE_ARCHIVE:-0}" = 1 ]; then
  tar -C "$dist" -czf "$smoke/AudioNetStudio.tar.gz" AudioNetStudio
  echo "build_bundle: as .tar.gz: $(du -sh "$smoke/AudioNetStudio.tar.gz" | cut -f1)"
fi
if [ ${#failed[@]} -gt 0 ]; then
  echo "build_bundle: FAILED smoke tests: ${failed[*]} (logs in $smoke with KEEP_SMOKE_DIR=1)" >&2
  exit 1
fi
echo "build_bundle: all smoke tests passed"
