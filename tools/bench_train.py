"""Training and extraction at the paper's sizes, with random weights: samples/s, peak GPU memory, MFU.

    python tools/bench_train.py [--what mvp,ast2,fusion,extract] [--variants base,compile,b128,b128ckpt] [--steps 30]
    torchrun --standalone --nproc_per_node 2 tools/bench_train.py --what ddp      # 2 processes (one GPU: gloo)

Every figure comes from the package's own code path: `musechat.train.fit` (DataLoader, bf16 autocast on CUDA,
fused AdamW, gradient clipping, the gathered CMC loss, DDP under torchrun) and `musechat.features`'
`encode_frames` / `encode_segments`. The models have the paper's configurations (`ASTConfig()` is AST-base:
12 layers, 768 wide, 1214 tokens for a 1024 x 128 spectrogram; `CLIPConfig()` is ViT-B/32) with random weights:
no hub weights are needed, and the speed of a step does not depend on the values of the weights.

* mvp:     MVP (two linear towers on the store's 512-d and 768-d vectors), batch 34, through `fit`.
* fusion:  MVTFusion at the paper's config (d 256, 4 self-attention layers, 16 heads; two AST-base towers fine-tuned
           from spectrograms; 77 CLIP text tokens), batch 34, through `fit`: the issue asks >= 250 samples/s on one H100.
* ast2:    what MVT-Fusion trains: two fine-tuned AST towers (the target music and the candidate music), the
           video vector and a CMC loss, batch 34 (and 128) through `fit`.
* extract: CLIP ViT-B/32 frames/s and AST segments/s of the feature extraction; the store's bytes per video.
* ddp:     under torchrun: the gathered loss equals the one-process loss of the same global batch on this device,
           and `fit` runs MVP and the two-AST step with 2 processes.

MFU = model FLOPs per second / the GPU's dense bf16 peak (989.4 TFLOP/s for an H100 SXM or H200; `--peak` for
others). Model FLOPs count the matrix products of the layers (2 per multiply-add; the attention's QK^T and AV too)
and 3x the forward for a training step; recomputation under gradient checkpointing is not counted. A benchmark,
not a test: it prints figures, it asserts only that the code ran.
"""
import argparse, json, math, os, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset
from musechat.train import LearnableTemperature

PEAKS = {'H100': 989.4e12, 'H200': 989.4e12, 'A100': 312e12}
TINY = False   # --tiny: small configurations, to check the script itself on a CPU in seconds

def ast_config():
    from transformers import ASTConfig
    cfg = ASTConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=2, max_length=200,
                    num_mel_bins=64) if TINY else ASTConfig()
    cfg._attn_implementation = 'sdpa'
    return cfg

def fbank_shape(): c = ast_config(); return (c.max_length, c.num_mel_bins)

def clip_config():
    from transformers import CLIPConfig
    if not TINY: return CLIPConfig()
    tower = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2)
    return CLIPConfig(text_config=tower, vision_config=dict(tower, image_size=224, patch_size=32), projection_dim=512)

def peak_flops(args) -> float | None:
    if args.peak: return args.peak * 1e12
    if not torch.cuda.is_available(): return None
    name = torch.cuda.get_device_name()
    return next((v for k, v in PEAKS.items() if k in name), None)

def ast_forward_flops(config) -> float:
    "Matrix-product FLOPs of one AST forward on one spectrogram: patch embedding, 12 x (attention + MLP)."
    from musechat.features import ast_grid
    f, t = ast_grid(config); T = f * t + 2; d, ff = config.hidden_size, config.intermediate_size
    patch = 2 * f * t * config.patch_size ** 2 * d
    layer = 2 * T * (4 * d * d + 2 * d * ff) + 2 * 2 * T * T * d
    return patch + config.num_hidden_layers * layer

def vit_forward_flops(config) -> float:
    "Matrix-product FLOPs of one CLIP vision forward on one image (patch embedding, layers, projection)."
    n = (config.image_size // config.patch_size) ** 2; T = n + 1; d, ff = config.hidden_size, config.intermediate_size
    return 2 * n * 3 * config.patch_size ** 2 * d + config.num_hidden_layers * (2 * T * (4 * d * d + 2 * d * ff) + 4 * T * T * d)

class RandomPool(Dataset):
    "`n` samples cycling over a pool of random tensors (made once): what a feature-store dataset returns, minus the disk."
    def __init__(self, n: int, shapes: dict, pool: int = 128, seed: int = 0):
        g = torch.Generator().manual_seed(seed)
        self.n, self.pool = n, {k: torch.randn(pool, *s, generator=g) for k, s in shapes.items()}
    def __len__(self): return self.n
    def __getitem__(self, i): return {k: v[i % len(v)] for k, v in self.pool.items()}

class TwoASTStep(LearnableTemperature, nn.Module):
    """The heavy part of an MVT-Fusion training step: AST g^m fine-tuned on the target music and a second AST on the
    candidate music; x_f = proj(x_v) + proj(candidate cls) against proj(target cls), CMC loss."""
    def __init__(self, attn: str = 'sdpa'):
        super().__init__()
        from transformers import ASTModel
        from musechat.train import cmc_loss
        cfg = ast_config(); cfg._attn_implementation = attn
        self.target_ast, self.candidate_ast = ASTModel(cfg), ASTModel(cfg)
        d = cfg.hidden_size
        self.video_proj, self.cand_proj, self.music_proj = nn.Linear(512, 256), nn.Linear(d, 256), nn.Linear(d, 256)
        self.init_temperature(.1)
        self.loss_fn = cmc_loss
    def forward(self, video, candidate, target):
        cand = self.candidate_ast(input_values=candidate).last_hidden_state[:, 0]
        tgt = self.target_ast(input_values=target).last_hidden_state[:, 0]
        x_f = F.normalize(self.video_proj(video) + self.cand_proj(cand), dim=-1)
        return {'loss': self.loss_fn(x_f, F.normalize(self.music_proj(tgt), dim=-1), self.temperature)}

def run_fit(model, data, settings, device, label, flops_per_sample, peak, warm_steps: int):
    "`fit` for `settings.max_steps` steps; samples/s over the steps after `warm_steps` (from fit's own log)."
    from musechat.train import fit, rank, world_size
    if device.type == 'cuda': torch.cuda.reset_peak_memory_stats(); torch.cuda.synchronize()
    times = []
    def cb(step, loss):
        if device.type == 'cuda': torch.cuda.synchronize()
        times.append(time.perf_counter())
    res = fit(model, data, settings, device=device, progress=False, callback=cb, desc=label)
    n = settings.batch_size * world_size()
    dt = (times[-1] - times[warm_steps - 1]) / (len(times) - warm_steps)
    sps = n / dt
    row = {'what': label, 'processes': world_size(), 'batch (global)': n, 'steps timed': len(times) - warm_steps,
           'ms/step': round(dt * 1e3, 1), 'samples/s': round(sps, 1),
           'TFLOP/s': round(sps * flops_per_sample / 1e12, 1) if flops_per_sample else None,
           'MFU %': round(100 * sps * flops_per_sample / peak, 1) if flops_per_sample and peak else None,
           'peak GiB': round(torch.cuda.max_memory_allocated() / 2 ** 30, 1) if device.type == 'cuda' else None,
           'loss first->last': f"{res.history[0]['loss']:.3f}->{res.history[-1]['loss']:.3f}" if res.history else None}
    if rank() == 0: print(json.dumps(row), flush=True)
    return row

def bench_mvp(args, device, peak):
    from musechat.mvp import MVP, MVPConfig
    from musechat.train import TrainSettings
    torch.manual_seed(0)
    model = MVP(MVPConfig(video_dim=512, music_dim=768, embed_dim=256))
    flops = 3 * 2 * (512 * 256 + 768 * 256)
    steps = args.steps * 10
    data = RandomPool(34 * steps, {'video': (512,), 'music': (768,)})
    s = TrainSettings(max_steps=steps, batch_size=34, lr=4e-5, warmup=.01, log_every=50, num_workers=2)
    return [run_fit(model, data, s, device, 'mvp b34', flops, peak, warm_steps=min(20, steps // 2))]

def bench_ast2(args, device, peak):
    from musechat.train import TrainSettings
    flops = 3 * 2 * ast_forward_flops(ast_config())
    variants = {'base': dict(batch_size=34), 'compile': dict(batch_size=34, compile=True),
                'eager': dict(batch_size=34), 'b128': dict(batch_size=128), 'b128ckpt': dict(batch_size=128, gradient_checkpointing=True),
                'b64': dict(batch_size=64), 'b128compile': dict(batch_size=128, compile=True)}
    rows = []
    for name in args.variants.split(','):
        kw = variants[name]
        torch.manual_seed(0)
        try:
            model = TwoASTStep('eager' if name == 'eager' else 'sdpa')
            print(json.dumps({'variant': name, 'attention': model.target_ast.config._attn_implementation, **kw}), flush=True)
            warm = 8 if kw.get('compile') else 3
            steps = args.steps + warm
            data = RandomPool(kw['batch_size'] * steps, {'video': (512,), 'candidate': fbank_shape(), 'target': fbank_shape()}, pool=64)
            s = TrainSettings(max_steps=steps, lr=4e-5, warmup=.1, log_every=1000, num_workers=4, **kw)
            rows.append(run_fit(model, data, s, device, f'ast2 {name}', flops, peak, warm_steps=warm))
        except torch.OutOfMemoryError as e:
            print(json.dumps({'what': f'ast2 {name}', 'error': 'out of GPU memory', 'detail': str(e).splitlines()[0][:160]}), flush=True)
        del model; torch.cuda.empty_cache() if device.type == 'cuda' else None
    return rows

def bench_fusion(args, device, peak):
    "The issue's figure: one MVT-Fusion training step at the paper's config through `fit` (two random-init AST towers fine-tuned, batch 34)."
    from musechat.fusion import MVTFusion, MVTFusionConfig
    from musechat.train import TrainSettings
    ast = ast_config(); d = 32 if TINY else 256
    config = MVTFusionConfig(video_dim=512, music_dim=ast.hidden_size, text_dim=512, embed_dim=d, num_self_layers=1 if TINY else 4,
                             num_heads=2 if TINY else 16, audio='spectrogram', ast_config=ast.to_dict())
    torch.manual_seed(0)
    model = MVTFusion(config)
    L, T = 77, ast_grid_time(ast)                 # CLIP's 77 text tokens; the candidate's time-pooled AST tokens
    layer = lambda n: 2 * n * (4 * d * d + 2 * d * 4 * d) + 4 * n * n * d
    heads = 2 * 2 * (1 + T + 1 + L) * d + 2 * (512 + ast.hidden_size + 512 + ast.hidden_size) * d   # projections + 2 cross-attentions, roughly
    flops = 3 * (2 * ast_forward_flops(ast) + config.num_self_layers * (layer(T + 1) + layer(L)) + heads)
    steps = args.steps + 3
    data = RandomPool(34 * steps, {'video': (512,), 'candidate_fbank': fbank_shape(), 'target_fbank': fbank_shape(),
                                   'text_tokens': (L, 512)}, pool=64)
    s = TrainSettings(max_steps=steps, batch_size=34, lr=4e-5, warmup=.1, log_every=1000, num_workers=4)
    return [run_fit(model, data, s, device, 'mvt-fusion b34 (paper config, AST towers fine-tuned)', flops, peak, warm_steps=3)]

def ast_grid_time(config) -> int:
    from musechat.features import ast_grid
    return ast_grid(config)[1]

@torch.no_grad()
def bench_extract(args, device, peak):
    "Frames/s of g^v (CLIP ViT-B/32) and segments/s of g^m (AST-base) as `extract_features` runs them, and the store's bytes per video."
    import numpy as np, tempfile
    from transformers import CLIPModel, ASTModel
    from musechat.core import get_preset
    from musechat.media import make_image_processor
    from musechat.features import encode_frames, encode_segments, write_part
    p = get_preset('paper')
    clip = CLIPModel(clip_config()).to(device).eval()
    cfg = ast_config()
    ast = ASTModel(cfg).to(device).eval()
    ip = make_image_processor(p)
    frames = torch.randint(0, 255, (1024, 224, 224, 3), dtype=torch.uint8, device=device)
    fbank = torch.randn(64, *fbank_shape(), device=device)
    def timed(fn, reps):
        for _ in range(2): fn()
        if device.type == 'cuda': torch.cuda.synchronize()
        t = time.perf_counter()
        for _ in range(reps): out = fn()
        if device.type == 'cuda': torch.cuda.synchronize()
        return (time.perf_counter() - t) / reps, out
    dt_v, vecs = timed(lambda: encode_frames(clip, frames, ip), args.steps)
    dt_m, out = timed(lambda: encode_segments(ast, fbank), args.steps)
    fps, sps = len(frames) / dt_v, len(fbank) / dt_m
    per_video = p.n_segments * p.frames_per_segment / fps + p.n_segments / sps
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as d:
        sizes = {'clip': write_part(Path(d) / 'clip.npz', frame_mean=rng.standard_normal((p.n_segments, 512)).astype(np.float32)).stat().st_size,
                 'ast': write_part(Path(d) / 'ast.npz', **{k: v[:p.n_segments].cpu().numpy() for k, v in out.items()}).stat().st_size}
    rows = [{'what': 'extract g^v CLIP ViT-B/32 (bf16, batch 1024 frames)', 'frames/s': round(fps), 'TFLOP/s': round(fps * vit_forward_flops(clip_config().vision_config) / 1e12, 1)},
            {'what': 'extract g^m AST-base (bf16, batch 64 segments)', 'segments/s': round(sps, 1), 'TFLOP/s': round(sps * ast_forward_flops(cfg) / 1e12, 1)},
            {'what': 'extract one paper video (600 frames + 12 segments), encoders only', 's/video': round(per_video, 4),
             'videos/s': round(1 / per_video, 1), 'hours for 98,206 videos': round(98_206 * per_video / 3600, 2)},
            {'what': 'store bytes per paper video', 'clip': sizes['clip'], 'ast (cls, mean, 12x101x768 fp16 tokens)': sizes['ast'],
             'MB': round(sum(sizes.values()) / 1e6, 2), 'GB for 98,206': round(98_206 * sum(sizes.values()) / 1e9, 1)}]
    for r in rows: print(json.dumps(r), flush=True)
    return rows

def bench_ddp(args, device, peak):
    "Under torchrun: the gathered CMC loss against the one-process loss of the same global batch, then `fit` with N processes."
    from musechat.train import cmc_loss, rank, world_size, init_distributed, alone
    device = init_distributed(device)
    r, n = rank(), world_size()
    g = torch.Generator().manual_seed(1)
    x, y = F.normalize(torch.randn(34, 256, generator=g), dim=-1).to(device), F.normalize(torch.randn(34, 256, generator=g), dim=-1).to(device)
    k = len(x) // n
    xl, yl = x[r * k:(r + 1) * k].clone().requires_grad_(), y[r * k:(r + 1) * k].clone().requires_grad_()
    loss = cmc_loss(xl, yl, torch.tensor(.1, device=device)); loss.backward()
    mean = loss.detach().clone(); torch.distributed.all_reduce(mean); mean /= n
    xa, ya = x[:k * n].clone().requires_grad_(), y[:k * n].clone().requires_grad_()
    with alone(): ref = cmc_loss(xa, ya, torch.tensor(.1, device=device))     # this process by itself, all 34 rows
    ref.backward()
    # DDP averages gradients over processes: each process's rows get (1/n) of the global loss's gradient x n
    gerr = (xl.grad / n - xa.grad[r * k:(r + 1) * k]).abs().max().item()
    if r == 0:
        print(json.dumps({'what': f'gathered CMC loss, {n} processes x {k} rows vs 1 process x {k * n}', 'backend': torch.distributed.get_backend(),
                          'loss (gathered)': round(mean.item(), 6), 'loss (one process)': round(ref.item(), 6),
                          'max |grad diff|': gerr}), flush=True)
    assert abs(mean.item() - ref.item()) < 1e-4 and gerr < 1e-5, (mean.item(), ref.item(), gerr)
    rows = []
    from musechat.mvp import MVP, MVPConfig
    from musechat.train import TrainSettings
    torch.manual_seed(0)
    steps = args.steps * 10
    rows.append(run_fit(MVP(MVPConfig(video_dim=512, music_dim=768)), RandomPool(34 * steps, {'video': (512,), 'music': (768,)}),
                        TrainSettings(max_steps=steps, batch_size=34 // n, lr=4e-5, log_every=50, num_workers=2), device,
                        f'mvp b{34 // n} x {n} processes', 3 * 2 * (512 * 256 + 768 * 256), peak, warm_steps=min(20, steps // 2)))
    torch.manual_seed(0)
    steps = args.steps + 3
    rows.append(run_fit(TwoASTStep(), RandomPool(34 * steps, {'video': (512,), 'candidate': fbank_shape(), 'target': fbank_shape()}, pool=64),
                        TrainSettings(max_steps=steps, batch_size=34 // n, lr=4e-5, log_every=1000, num_workers=2), device,
                        f'ast2 b{34 // n} x {n} processes', 3 * 2 * ast_forward_flops(ast_config()), peak, warm_steps=3))
    return rows

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--what', default='mvp,ast2,fusion,extract', help='comma-separated: mvp, ast2, fusion, extract, ddp')
    ap.add_argument('--variants', default='base,compile,b128,b128ckpt', help='ast2 variants: base, compile, eager, b64, b128, b128ckpt, b128compile')
    ap.add_argument('--steps', type=int, default=30, help='timed steps (after warm-up)')
    ap.add_argument('--peak', type=float, default=None, help='the GPU dense bf16 peak in TFLOP/s (default: by device name)')
    ap.add_argument('--device', default='auto')
    ap.add_argument('--json', default=None, help='also write every row to this file')
    ap.add_argument('--tiny', action='store_true', help='small configurations: checks the script on a CPU in seconds (figures meaningless)')
    args = ap.parse_args()
    global TINY; TINY = args.tiny
    from musechat.train import resolve_device, rank
    device = resolve_device(args.device); peak = peak_flops(args)
    if rank() == 0 and int(os.environ.get('LOCAL_RANK', 0)) == 0:
        print(json.dumps({'torch': torch.__version__, 'device': torch.cuda.get_device_name() if device.type == 'cuda' else 'cpu',
                          'bf16 peak TFLOP/s': peak / 1e12 if peak else None}), flush=True)
    torch.backends.cuda.matmul.allow_tf32 = True; torch.backends.cudnn.allow_tf32 = True
    rows = []
    for what in args.what.split(','):
        rows += {'mvp': bench_mvp, 'ast2': bench_ast2, 'fusion': bench_fusion, 'extract': bench_extract, 'ddp': bench_ddp}[what](args, device, peak)
    if args.json and rank() == 0: Path(args.json).write_text(json.dumps(rows, indent=1))
    if torch.distributed.is_available() and torch.distributed.is_initialized(): torch.distributed.destroy_process_group()

if __name__ == '__main__': main()
