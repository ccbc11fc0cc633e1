"""The sentence generator at the paper's size, with random weights: a training step's tokens/s, peak memory and MFU,
and generation tokens/s.

    python tools/bench_generator.py [--steps 20] [--batch 16] [--variants ckpt,nockpt] [--tiny --device cpu]

The model is `musechat.generator.SentenceGenerator` on a `LlamaForCausalLM` of Vicuna-7B's configuration (LLaMA-2-7B:
32 layers, 4096 wide, 32 heads, MLP 11008, vocabulary 32000) built with random weights in bf16 (no hub weights are
needed: the speed of a step does not depend on the weights' values), LoRA rank 32 on q/k/v/o through `peft`, the
projector f_l from a 768-d AST embedding, one music token in the paper's training prompt, sequences of 128 tokens
(§5.1). The paper gives no batch size: 16 by default. Training runs through `musechat.train.fit` (bf16 autocast on
CUDA, fused AdamW on the trainable weights only, gradient checkpointing in the 'ckpt' variant).

MFU = model FLOPs per second / the GPU's dense bf16 peak (989.4 TFLOP/s for an H100 SXM; `--peak` for others).
Model FLOPs of a LoRA step: the frozen weights' matrix products forward (2 per multiply-add) and once more backward
(the activations' gradients; their weights get none), the attention's QK^T and AV likewise, the LoRA and projector
products 3x; recomputation under gradient checkpointing is not counted. A benchmark, not a test: it prints figures.
"""
import argparse, json, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import torch
from torch.utils.data import Dataset

PEAKS = {'H100': 989.4e12, 'H200': 989.4e12, 'A100': 312e12}

def llama_config(tiny: bool):
    from transformers import LlamaConfig
    if tiny: return LlamaConfig(vocab_size=512, hidden_size=64, intermediate_size=172, num_hidden_layers=2, num_attention_heads=4,
                                num_key_value_heads=4, max_position_embeddings=256)
    return LlamaConfig(vocab_size=32000, hidden_size=4096, intermediate_size=11008, num_hidden_layers=32, num_attention_heads=32,
                       num_key_value_heads=32, max_position_embeddings=4096)     # Vicuna-7B (LLaMA-2-7B)

def tokenizer():
    "A small stand-in tokenizer (only its special ids are used: the inputs are random ids below the LM's vocabulary)."
    from musechat.generator import train_lm_tokenizer
    return train_lm_tokenizer(['### Recommender: Music feature: <Music> </Music>; Generate Recommendation:'] * 4, vocab_size=300)

class RandomExplanations(Dataset):
    "Training examples of `length` tokens: BOS, a prompt with one music token, a response; labels on the response only."
    def __init__(self, n: int, length: int, vocab: int, music_dim: int, prompt: int = 24, seed: int = 0):
        from musechat.generator import MUSIC_TOKEN_INDEX, IGNORE_INDEX
        g = torch.Generator().manual_seed(seed)
        self.ids = torch.randint(3, vocab, (n, length), generator=g); self.ids[:, 12] = MUSIC_TOKEN_INDEX
        self.labels = self.ids.clone(); self.labels[:, :prompt] = IGNORE_INDEX
        self.music = torch.randn(n, music_dim, generator=g)
    def __len__(self): return len(self.ids)
    def __getitem__(self, i):
        return {'input_ids': self.ids[i], 'attention_mask': torch.ones_like(self.ids[i]), 'labels': self.labels[i], 'music': self.music[i]}

def step_flops(cfg, lora_rank: int, tokens: int, length: int, music_dim: int) -> float:
    "Model FLOPs of one LoRA training step on `tokens` tokens (see the module's docstring)."
    d, f, L, V = cfg.hidden_size, cfg.intermediate_size, cfg.num_hidden_layers, cfg.vocab_size
    frozen = L * (4 * d * d + 3 * d * f) + d * V                    # multiply-adds per token: q,k,v,o, the MLP, the LM head
    attention = L * 2 * length * d                                  # QK^T and AV per token (full causal length, as usual)
    lora = L * 4 * lora_rank * 2 * d                               # A and B of q, k, v, o
    return tokens * (2 * 2 * (frozen + attention) + 3 * 2 * lora) + 3 * 2 * music_dim * d * (tokens / length)

def build(cfg, device, music_dim: int, rank: int):
    from transformers import LlamaForCausalLM
    from musechat.generator import SentenceGenerator, SentenceGeneratorConfig
    dtype = torch.bfloat16 if device.type == 'cuda' else torch.float32
    torch.manual_seed(0)
    with torch.device(device):
        torch.set_default_dtype(dtype)
        try: lm = LlamaForCausalLM(cfg)
        finally: torch.set_default_dtype(torch.float32)
    config = SentenceGeneratorConfig(lm_name_or_path='random-vicuna-7b-config', music_dim=music_dim, lora_rank=rank)
    return SentenceGenerator(config, lm, tokenizer()).to(device)

def bench_train(args, cfg, device, peak, variant: str) -> dict:
    from musechat.train import TrainSettings, fit
    model = build(cfg, device, args.music_dim, args.rank)
    steps = args.steps + args.warm
    data = RandomExplanations(args.batch * steps, args.length, cfg.vocab_size, args.music_dim)
    settings = TrainSettings(max_steps=steps, batch_size=args.batch, lr=5e-4, schedule='linear', warmup=0, weight_decay=0.,
                             gradient_checkpointing=variant == 'ckpt', log_every=1)
    if device.type == 'cuda': torch.cuda.empty_cache(); torch.cuda.reset_peak_memory_stats(); torch.cuda.synchronize()
    times = []
    def cb(step, loss):
        if device.type == 'cuda': torch.cuda.synchronize()
        times.append(time.perf_counter())
    res = fit(model, data, settings, device=device, progress=False, callback=cb, desc='generator')
    dt = (times[-1] - times[args.warm - 1]) / (len(times) - args.warm)
    tokens = args.batch * args.length
    flops = step_flops(cfg, args.rank, tokens, args.length, args.music_dim)
    row = {'what': f'train {variant} b{args.batch} L{args.length}', 'trainable weights': sum(model.trainable_parameters().values()),
           'all weights': sum(p.numel() for p in model.parameters()), 'ms/step': round(dt * 1e3, 1), 'tokens/s': round(tokens / dt),
           'TFLOP/s': round(flops / dt / 1e12, 1), 'MFU %': round(100 * flops / dt / peak, 1) if peak else None,
           'peak GiB': round(torch.cuda.max_memory_allocated() / 2 ** 30, 1) if device.type == 'cuda' else None,
           'loss first->last': f"{res.history[0]['loss']:.3f}->{res.history[-1]['loss']:.3f}"}
    print(json.dumps(row), flush=True)
    return row, model

@torch.no_grad()
def bench_generate(args, model, device) -> dict:
    "Sampling (temperature 0.1) to the 128-token limit with the KV cache, the MuseChat prompt (title + music token)."
    import numpy as np
    n = args.gen_batch
    titles = [f'Artist {i} - Song {i} (Official Video)' for i in range(n)]
    music = np.random.default_rng(0).standard_normal((n, args.music_dim)).astype(np.float32)
    model.generate(titles[:2], music[:2], 'title_music', max_new_tokens=4, batch_size=2)      # warm-up
    if device.type == 'cuda': torch.cuda.synchronize(); torch.cuda.reset_peak_memory_stats()
    t = time.perf_counter()
    texts = model.generate(titles, music, 'title_music', batch_size=n, seed=0)
    if device.type == 'cuda': torch.cuda.synchronize()
    dt = time.perf_counter() - t
    from musechat.generator import tokenize_prompt, build_prompt
    prompt = len(tokenize_prompt(model.tokenizer, build_prompt('title_music', titles[0])))
    row = {'what': f'generate b{n} (sampling, T=0.1)', 'prompt tokens': prompt, 'new tokens (max)': model.config.max_sequence_length - prompt,
           's': round(dt, 2), 'new tokens/s (batch)': round(n * (model.config.max_sequence_length - prompt) / dt),
           'peak GiB': round(torch.cuda.max_memory_allocated() / 2 ** 30, 1) if device.type == 'cuda' else None}
    print(json.dumps(row), flush=True)
    return row

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--steps', type=int, default=20, help='timed training steps (after --warm)')
    ap.add_argument('--warm', type=int, default=3)
    ap.add_argument('--batch', type=int, default=16)
    ap.add_argument('--length', type=int, default=128, help='tokens per sequence (the paper: 128)')
    ap.add_argument('--rank', type=int, default=32, help='LoRA rank (the paper: 32)')
    ap.add_argument('--music-dim', type=int, default=768, help="the AST embedding's size")
    ap.add_argument('--gen-batch', type=int, default=16)
    ap.add_argument('--variants', default='ckpt,nockpt', help='ckpt: gradient checkpointing (the paper preset); nockpt: without')
    ap.add_argument('--peak', type=float, default=None, help='dense bf16 peak in TFLOP/s (default: by device name)')
    ap.add_argument('--device', default='auto')
    ap.add_argument('--json', default=None)
    ap.add_argument('--tiny', action='store_true', help='a tiny LLaMA: checks the script on a CPU in seconds (figures meaningless)')
    args = ap.parse_args()
    from musechat.train import resolve_device
    device = resolve_device(args.device)
    peak = args.peak * 1e12 if args.peak else next((v for k, v in PEAKS.items() if device.type == 'cuda' and k in torch.cuda.get_device_name()), None)
    print(json.dumps({'torch': torch.__version__, 'device': torch.cuda.get_device_name() if device.type == 'cuda' else 'cpu',
                      'bf16 peak TFLOP/s': peak / 1e12 if peak else None}), flush=True)
    torch.backends.cuda.matmul.allow_tf32 = True
    cfg, rows, model = llama_config(args.tiny), [], None
    for v in args.variants.split(','):
        if model is not None: del model; torch.cuda.empty_cache() if device.type == 'cuda' else None
        row, model = bench_train(args, cfg, device, peak, v); rows.append(row)
    rows.append(bench_generate(args, model, device))
    if args.json: Path(args.json).write_text(json.dumps(rows, indent=1))

if __name__ == '__main__': main()
