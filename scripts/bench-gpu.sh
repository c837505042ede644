#!/usr/bin/env bash
# Regenerates docs/benchmarks-gpu.md on a machine with an NVIDIA GPU, CUDA 13 and cuDNN 9 (what ONNX Runtime 1.31's CUDA
# provider loads): builds moe-bench and `moe` against the CUDA-capable runtime, makes looped espeak-ng speech, and runs
# `moe-bench --gpu` (one expert, the scorer and `moe scan`, CPU against CUDA in one run), then the PyTorch eager LCNN
# (benchmarks/torch-eager-lcnn.py) for the peer comparison.
# Put the CUDA and cuDNN library folders on LD_LIBRARY_PATH first if they are not on the loader's path.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${MOE_BENCH_GPU_OUT:-artifacts/bench-gpu}
speech="$out/speech"
mkdir -p "$speech"
text="A library scan is judged by audio hours per hour of compute. The scanner decodes each file, cuts it into three second windows, computes a log mel spectrogram, asks the gate which experts to trust, and fuses their answers into one calibrated probability. Numbers, dates and names: on the fourth of July, nineteen seventy six, at half past seven."
for voice in en en-us en+f3 de fr es; do
  wav="$speech/speech-${voice/+/_}.wav"
  [[ -f "$wav" ]] || { espeak-ng -v "$voice" -s 160 -w "$out/tmp.wav" "$text" && ffmpeg -nostdin -y -v error -i "$out/tmp.wav" -ac 1 -ar 16000 -c:a pcm_s16le "$wav"; }
done
dotnet publish benchmarks/MoeFunctions.Benchmarks -c Release -r linux-x64 --self-contained false -p:OrtGpu=true -o "$out/app" --nologo -v quiet
dotnet "$out/app/moe-bench.dll" --gpu --speech "$speech" --model models/default --work "$out/work" --out docs/benchmarks-gpu.md "$@"
# The PyTorch eager peer column (docs/benchmarks-gpu.md quotes it by hand), where python3 has torch with CUDA.
if python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  python3 benchmarks/torch-eager-lcnn.py "$out/torch-eager.md"
else
  echo "no PyTorch with CUDA here: the PyTorch eager comparison was not run"
fi
