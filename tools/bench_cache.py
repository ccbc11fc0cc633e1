"""Benchmark of the feature store: one MVP epoch read from the store versus one that runs the frozen encoders again.

    .venv/bin/python tools/bench_cache.py [--preset toy] [--tracks 400]

Both epochs start from the same decoded inputs (the toy world's decoded-input cache) and end with the same MVP
training epoch through `fit`; the only difference is whether the frozen CLIP and AST encoders run again (into a
fresh, private store) or the existing store is read. Prints the two times and their ratio, measured in one run.
A benchmark, not a test: timings on a shared machine are noisy.
"""
import argparse, tempfile, time
from dataclasses import replace
from pathlib import Path

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--preset', default='toy', choices=['smoke', 'toy'])
    ap.add_argument('--tracks', type=int, default=400, help='train tracks in the epoch (default 400)')
    args = ap.parse_args()
    from musechat.core import get_preset
    from musechat.world import build_world
    from musechat.manifest import load_manifest
    from musechat.pretraining import encoder_paths
    from musechat.encoders import load_clip, load_ast
    from musechat.features import extract_features
    from musechat.media import cache_model_inputs
    from musechat.mvp import train_mvp, MVPSettings
    preset = get_preset(args.preset)
    world = build_world(preset)
    rows = [r for r in load_manifest(world) if r['split'] == 'train'][:args.tracks]
    ids = [r['track_id'] for r in rows]
    paths = encoder_paths(preset, world)
    clip, _, ip = load_clip(paths['clip']); ast, _ = load_ast(paths['ast'])
    cache_model_inputs(world, rows, preset)
    settings = MVPSettings.for_preset(preset)
    settings = replace(settings, train=replace(settings.train, epochs=1, batch_size=64))
    store_root = Path(tempfile.mkdtemp())
    extract_features(world, rows, preset, clip=(clip, ip), ast=ast, device='cpu', root=store_root, progress=False)  # the one-time cost

    def epoch(recompute: bool) -> float:
        t = time.perf_counter()
        root = Path(tempfile.mkdtemp()) if recompute else store_root
        s = extract_features(world, rows, preset, clip=(clip, ip), ast=ast, device='cpu', root=root, progress=False)
        train_mvp(s['clip'], s['ast'], ids, settings, device='cpu', progress=False)
        return time.perf_counter() - t

    recompute = min(epoch(True) for _ in range(2))
    stored = min(epoch(False) for _ in range(2))
    print(f"preset {preset.name}, {len(rows)} tracks x {preset.n_segments} segments x {preset.frames_per_segment} frames")
    print(f"epoch running CLIP + AST again:  {recompute:.2f} s")
    print(f"epoch read from the store:       {stored:.2f} s")
    print(f"ratio (recompute / store):       {recompute / stored:.1f}x")

if __name__ == '__main__':
    main()
