#!/usr/bin/env bash
# Starts (or stops, with "stop") a PulseAudio virtual microphone: a null sink "vspeaker" whose monitor is
# remapped to a mono source "vmic". Whatever plays into vspeaker is recorded from vmic, sample-exact.
# Source this file's output: it prints the environment the recording process needs.
set -euo pipefail
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp/audionet-xdg}
if [ "${1:-start}" = stop ]; then
  pulseaudio --kill 2>/dev/null || true
  exit 0
fi
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
if ! pactl info >/dev/null 2>&1; then
  pulseaudio --daemonize=yes --exit-idle-time=-1 -n --log-target=stderr \
    --load=module-native-protocol-unix \
    --load="module-null-sink sink_name=vspeaker rate=44100 sink_properties=device.description=VirtualSpeaker" \
    --load="module-remap-source source_name=vmic master=vspeaker.monitor channels=1 source_properties=device.description=VirtualMic" \
    2>/dev/null
  for _ in $(seq 50); do pactl info >/dev/null 2>&1 && break; sleep 0.1; done
fi
pactl set-default-sink vspeaker
pactl set-default-source vmic
echo "export XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR"
