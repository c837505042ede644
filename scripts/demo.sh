#!/usr/bin/env bash
# Sets up the machine, makes a small demo set of real and synthetic speech from Debian packages, and scans it
# with the bundled model: real = Asterisk's recorded English voice prompts, synthetic = espeak-ng speech.
# Audio goes to demo/ (git-ignored); the report to demo/report.html, results to demo/results.json.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
bash scripts/setup.sh

demo="$root/demo"
mkdir -p "$demo/real" "$demo/synthetic"
# Debian's package puts the English prompts under a voice-named folder (en_US_f_Allison).
prompts=$(dirname "$(dpkg -L asterisk-core-sounds-en-g722 | grep -m1 '/vm-intro\.g722$')")
if [ ! -f "$demo/.made" ]; then
  # The twelve longest prompts (longer prompts give several windows each), in several containers.
  mapfile -t picks < <(find "$prompts" -maxdepth 1 -name '*.g722' -printf '%s %p\n' | sort -rn | head -n 12 | cut -d' ' -f2-)
  exts=(wav mp3 ogg flac m4a opus)
  i=0
  for f in "${picks[@]}"; do
    base=$(basename "$f" .g722); ext=${exts[$((i % ${#exts[@]}))]}
    ffmpeg -nostdin -loglevel error -y -f g722 -i "$f" "$demo/real/$base.$ext"
    i=$((i + 1))
  done
  texts=(
    "Thank you for calling. Please listen carefully, as our menu options have recently changed."
    "The person at extension four five two is not available. Please leave a message after the tone."
    "Your call is important to us. Please stay on the line and the next available agent will answer."
    "To hear these options again, press the star key. To return to the main menu, press zero."
    "Welcome to the conference. You are currently the only person in this conference."
    "The number you have dialed is not in service. Please check the number and try again."
  )
  voices=(en-us en+m3 en+f2 en-gb en+m7 en+f4)
  for j in "${!texts[@]}"; do
    ext=${exts[$((j % ${#exts[@]}))]}
    espeak-ng -v "${voices[$j]}" -s 150 -w "$demo/synthetic/tts-$j.wav" "${texts[$j]}"
    if [ "$ext" != wav ]; then
      ffmpeg -nostdin -loglevel error -y -i "$demo/synthetic/tts-$j.wav" -ar 24000 "$demo/synthetic/tts-$j.$ext"
      rm "$demo/synthetic/tts-$j.wav"
    fi
  done
  touch "$demo/.made"
fi

dotnet run --project src/MoeFunctions.Cli -c "${CONFIGURATION:-Debug}" --no-build -- \
  scan "$demo/real" "$demo/synthetic" --html "$demo/report.html" --json "$demo/results.json" "$@"
