#!/usr/bin/env bash
# Coverage-guided fuzzing of the audio layer (container sniffing + managed WAV/MP3/FLAC/Vorbis/Opus decoders,
# resampling, windowing, speech detection) with SharpFuzz 2.3.0 under AFL++ (Debian package afl++).
# Harness: fuzz/MoeFunctions.Fuzz (FuzzTarget.Run; only MediaDecodeException may escape).
#
#   scripts/fuzz.sh [SECONDS]        fuzz for SECONDS (default 600); findings in artifacts/fuzz/findings
#   scripts/fuzz.sh replay FILE...   run inputs once through the harness (reproduce a crash)
#   scripts/fuzz.sh selftest         checks that AFL++ sees a crash thrown by the harness (exit 0 when it does)
#
# A crash found here becomes a regression test in tests/MoeFunctions.Reliability.Tests (input committed or generated)
# plus the fix. The normal test suite runs the same FuzzTarget over seeds and deterministic mutations (MutationFuzzTests).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
out="$root/artifacts/fuzz"
bin="$out/bin"
log() { printf '[fuzz] %s\n' "$*" >&2; }

if [ "${1:-}" = replay ]; then
  shift
  dotnet build fuzz/MoeFunctions.Fuzz -c Release -nologo -v:q -o "$out/replay-bin" >/dev/null
  exec dotnet "$out/replay-bin/MoeFunctions.Fuzz.dll" --run "$@"
fi
mode=fuzz
if [ "${1:-}" = selftest ]; then mode=selftest; shift; fi
seconds="${1:-600}"

# AFL++ pulls in clang; only fuzzing needs it, so this script installs it rather than the test set-up.
if ! command -v afl-fuzz >/dev/null; then
  log "installing afl++"
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++ >/dev/null
  else sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq afl++ >/dev/null; fi
fi
if [ ! -x .tools/sharpfuzz ]; then
  log "installing SharpFuzz.CommandLine 2.3.0 into .tools"
  dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path .tools >/dev/null
fi

# A fresh build each time: SharpFuzz refuses to instrument an assembly twice.
rm -rf "$bin"
dotnet build fuzz/MoeFunctions.Fuzz -c Release -nologo -v:q -o "$bin" >/dev/null
for dll in MoeFunctions.Audio NLayer NVorbis Concentus; do
  log "instrumenting $dll.dll"
  .tools/sharpfuzz "$bin/$dll.dll" >/dev/null
done

# Seeds: half a second of espeak-ng speech in every managed format (small files fuzz faster).
seeds="$out/seeds"
if [ ! -d "$seeds" ]; then
  mkdir -p "$seeds"
  espeak-ng -w "$out/speech.wav" "Fuzzing the decoder." >/dev/null
  ff() { ffmpeg -nostdin -hide_banner -loglevel error -y -i "$out/speech.wav" -t 0.5 "$@"; }
  ff -ar 8000 -c:a pcm_s16le "$seeds/s16.wav"
  ff -ar 8000 -ac 2 -c:a pcm_f32le "$seeds/f32-stereo.wav"
  ff -c:a libmp3lame -b:a 32k "$seeds/speech.mp3"
  ff -ar 8000 -c:a flac "$seeds/speech.flac"
  ff -c:a libvorbis -q:a 0 "$seeds/speech.ogg"
  ff -c:a libopus -b:a 12k "$seeds/speech.opus"
fi

# dotnet is not an AFL-instrumented binary (the instrumented assemblies report coverage), so the binary check is skipped.
export AFL_SKIP_BIN_CHECK=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_UI=1

if [ "$mode" = selftest ]; then
  rm -rf "$out/selftest"; mkdir -p "$out/selftest/seeds"
  cp "$seeds/s16.wav" "$out/selftest/seeds/"
  printf 'MOE-FUZZ-SELFTEST' > "$out/selftest/seeds/crash"
  # afl-fuzz refuses a seed that crashes during its dry run: that refusal is the proof.
  MOE_FUZZ_SELFTEST=1 afl-fuzz -i "$out/selftest/seeds" -o "$out/selftest/findings" -t 10000 -m none -V 10 \
    -- dotnet "$bin/MoeFunctions.Fuzz.dll" > "$out/selftest/afl.log" 2>&1 || true
  if grep -q 'the program crashed with one of the test cases' "$out/selftest/afl.log"; then log "self-test passed: AFL++ reported the planted crash"; exit 0; fi
  log "self-test FAILED: AFL++ did not report the planted crash (see $out/selftest/afl.log)"; exit 1
fi

log "fuzzing for $seconds s; findings in $out/findings"
afl-fuzz -i "$seeds" -o "$out/findings" -t 10000 -m none -V "$seconds" -- dotnet "$bin/MoeFunctions.Fuzz.dll" || true

stats="$out/findings/default/fuzzer_stats"
[ -f "$stats" ] && grep -E '^(execs_done|execs_per_sec|corpus_count|saved_crashes|saved_hangs|bitmap_cvg) ' "$stats" | sed 's/^/[fuzz] /' >&2
crashes=$(find "$out/findings/default/crashes" -type f -name 'id:*' 2>/dev/null | wc -l)
hangs=$(find "$out/findings/default/hangs" -type f -name 'id:*' 2>/dev/null | wc -l)
log "crashes: $crashes, hangs: $hangs"
[ "$crashes" -eq 0 ]
