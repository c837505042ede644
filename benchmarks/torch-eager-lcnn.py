# The GPU peer of moe-bench's expert table: the LCNN in PyTorch eager (the execution the authors' code uses; the layers of
# src/MoeFunctions.Training/Networks/Lcnn.cs, random weights: speed does not depend on their values), windows per second at
# batch 1, 8, 32, 128, with the input copied to the device and the outputs back every run as the scanner does; plus the
# GPU's measured FP32 and TF32 matrix peak. Usage: python3 benchmarks/torch-eager-lcnn.py OUT.md (needs torch with CUDA).
import sys, time, torch, torch.nn as nn, torch.nn.functional as F
out = open(sys.argv[1], 'w')
def P(s=''): print(s); out.write(s + '\n'); out.flush()
def mfm(x): a, b = x.chunk(2, 1); return torch.maximum(a, b)
class Lcnn(nn.Module):
    def __init__(s):
        super().__init__()
        C = nn.Conv2d; B = nn.BatchNorm2d
        s.c1 = C(1, 64, 5, padding=2); s.c4 = C(32, 64, 1); s.b4 = B(32); s.c7 = C(32, 96, 3, padding=1); s.b7 = B(48)
        s.c11 = C(48, 96, 1); s.b11 = B(48); s.c14 = C(48, 128, 3, padding=1); s.c17 = C(64, 128, 1); s.b17 = B(64)
        s.c20 = C(64, 64, 3, padding=1); s.b20 = B(32); s.c23 = C(32, 64, 1); s.b23 = B(32); s.c26 = C(32, 64, 3, padding=1)
        s.fc1 = nn.Linear(4096, 128); s.bfc = nn.BatchNorm1d(64); s.fc2 = nn.Linear(64, 2)
    def forward(s, x):
        x = F.max_pool2d(mfm(s.c1(x)), 2); x = s.b4(mfm(s.c4(x))); x = s.b7(F.max_pool2d(mfm(s.c7(x)), 2))
        x = s.b11(mfm(s.c11(x))); x = F.max_pool2d(mfm(s.c14(x)), 2); x = s.b17(mfm(s.c17(x)))
        x = s.b20(mfm(s.c20(x))); x = s.b23(mfm(s.c23(x))); x = mfm(s.c26(x))
        x = F.adaptive_max_pool2d(x, (16, 8)).flatten(1); e = mfm(s.fc1(x))
        return F.softmax(s.fc2(s.bfc(e)), 1), e
torch.manual_seed(11)
x = torch.randn(128, 1, 80, 301)
def rate(model, dev, batch, windows):
    xb = x[:batch].contiguous()
    def once():
        p, e = model(xb.to(dev)); p.cpu(); e.cpu()
    with torch.inference_mode():
        for _ in range(3): once()
        done = spent = 0
        for _ in range(3):
            n = max(1, windows // batch)
            if dev == 'cuda': torch.cuda.synchronize()
            t = time.perf_counter()
            for _ in range(n): once()
            if dev == 'cuda': torch.cuda.synchronize()
            done += n * batch; spent += time.perf_counter() - t
    return done / spent
P(f'torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}, {torch.cuda.get_device_name(0)}, {torch.get_num_threads()} CPU threads')
P(); P('| batch | PyTorch eager CPU | PyTorch eager CUDA | CUDA, cudnn.benchmark |'); P('| ---: | ---: | ---: | ---: |')
cpu = Lcnn().eval(); gpu = Lcnn().eval().cuda()
for batch in (1, 8, 32, 128):
    torch.backends.cudnn.benchmark = False
    c = rate(cpu, 'cpu', batch, 64); g = rate(gpu, 'cuda', batch, 512)
    torch.backends.cudnn.benchmark = True
    gb = rate(gpu, 'cuda', batch, 512)
    P(f'| {batch} | {c:.0f} | {g:.0f} | {gb:.0f} |')
P(); P('3 rounds after 3 warm-up runs, windows over seconds of all rounds (as moe-bench); conv TF32 at PyTorch\'s default (on).')
def peak(tf32):
    torch.backends.cuda.matmul.allow_tf32 = tf32
    a = torch.randn(8192, 8192, device='cuda'); b = torch.randn(8192, 8192, device='cuda')
    for _ in range(3): a @ b
    torch.cuda.synchronize(); t = time.perf_counter()
    for _ in range(10): a @ b
    torch.cuda.synchronize(); return 10 * 2 * 8192 ** 3 / (time.perf_counter() - t) / 1e12
P(f'Measured matrix peak (8192^3 torch.matmul, mean of 10 after 3 warm-ups): FP32 {peak(False):.1f} TFLOP/s, TF32 {peak(True):.1f} TFLOP/s')
