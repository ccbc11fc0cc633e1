"""How long the toy world's fusion models take to train on this machine, each way `run_models` can train them.

    python tools/bench_toy.py [--models 4] [--workers 1,2] [--steps 20]

Two figures, both from the package's own code on the toy world (built and encoded first if missing):

* step:    one training step of the toy MuseChat (forward, backward, AdamW) on a real batch of its train quartets,
           with the branches' self-attention computed on the real tokens only (`packed_layers`, what `_branch` uses)
           and, for comparison, through `nn.TransformerEncoderLayer` on every padded position.
* workers: `train_fusions` training `--models` toy MuseChat models (fresh seeds, in a temporary cache) with each
           number of `--workers`: seconds in all and per model.

A benchmark, not a test: it prints figures and asserts only that the code ran. These machines are shared and noisy.
"""
import argparse, os, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

def batch_and_model(data):
    import torch
    from musechat.two_turns import FusionSettings, train_conversations, LibraryCollate, Quartets
    from musechat.fusion import MVTFusion, MVTFusionConfig
    from musechat.tables import VARIANTS
    s = FusionSettings.for_preset('toy')
    train = Quartets(train_conversations(data, s), data['video'], data['music'], data['text'], segments=s.segments, in_memory=True)
    collate = LibraryCollate(train.use_library(sorted({q['target'] for q in train.convs})))
    b = collate([train[i] for i in torch.randperm(len(train), generator=torch.Generator().manual_seed(0))[:s.train.batch_size].tolist()])
    config = MVTFusionConfig(video_dim=b['video'].shape[-1], music_dim=b['target'].shape[-1], text_dim=b['text_tokens'].shape[-1],
                             embed_dim=s.embed_dim, num_self_layers=s.num_self_layers, num_heads=s.num_heads, dropout=s.dropout,
                             candidate_negative=s.candidate_negative, **VARIANTS['MuseChat (ours)'])
    return b, MVTFusion(config)

def bench_step(data, steps: int):
    import torch
    import musechat.fusion as fusion
    b, model = batch_and_model(data)
    real = b['text_mask'].float().mean().item()
    opt = torch.optim.AdamW(model.parameters(), 1e-3)
    def run(n):
        for _ in range(n): model(**b)['loss'].backward(); opt.step(); opt.zero_grad()
    packable = fusion._packable
    for label, pack in (('packed (real tokens only)', True), ('every padded position', False)):
        fusion._packable = packable if pack else (lambda layer: False)
        run(3); t = time.time(); run(steps); dt = (time.time() - t) / steps
        print(f"step  {label:28s} {dt * 1e3:7.1f} ms/step  (batch {len(b['video'])}, text {b['text_tokens'].shape[1]} positions, "
              f"{real:.0%} real; {torch.get_num_threads()} threads)")
    fusion._packable = packable

def bench_workers(world, rows, data, models: int, workers):
    from musechat.tables import train_fusions
    for n in workers:
        with tempfile.TemporaryDirectory() as home:
            os.environ['MUSECHAT_HOME'] = home
            jobs = [('MuseChat (ours)', 1000 + i) for i in range(models)]
            t = time.time(); done = train_fusions('toy', world, data, jobs, workers=n, progress=False); dt = time.time() - t
            assert len(done) == models
            print(f"workers {n}: {models} toy MuseChat models in {dt:.1f} s, {dt / models:.1f} s per model (cores: {os.cpu_count()})")

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--models', type=int, default=4, help='toy models to train for each number of workers')
    ap.add_argument('--workers', default='1,2', help='comma-separated numbers of worker processes')
    ap.add_argument('--steps', type=int, default=20, help='timed training steps of the step figure')
    ap.add_argument('--what', default='step,workers', help='comma-separated: step, workers')
    args = ap.parse_args()
    from musechat.world import build_world
    from musechat.manifest import load_manifest
    from musechat.two_turns import fusion_data
    world = build_world('toy'); rows = load_manifest(world)
    data = fusion_data('toy', world, rows)
    what = args.what.split(',')
    if 'step' in what: bench_step(data, args.steps)
    if 'workers' in what: bench_workers(world, rows, data, args.models, [int(w) for w in args.workers.split(',')])

if __name__ == '__main__':
    main()
