"""Benchmark of the frozen-feature cache: one MVP epoch on cached features versus one that recomputes them.

    .venv/bin/python tools/bench_cache.py [--preset toy] [--tracks 400]

Both epochs see the same decoded inputs (decoding is cached separately) and run the same MVP training
steps; the only difference is whether the frozen CLIP and AST encoders run again. Prints the two times
and their ratio, measured in one run. A benchmark, not a test: timings on a shared machine are noisy.
"""
import argparse, os, tempfile, time
from pathlib import Path

def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--preset', default='toy', choices=['smoke', 'toy'])
    ap.add_argument('--tracks', type=int, default=400, help='train tracks in the epoch (default 400)')
    args = ap.parse_args()
    from musechat.core import get_preset
    from musechat.world import build_world, load_manifest
    from musechat.encoders import encoder_paths, load_clip, load_ast
    from musechat.features import clip_frame_features, ast_segment_features
    from musechat.media import cache_model_inputs
    from musechat.mvp import train_mvp, MVPTrainConfig
    preset = get_preset(args.preset)
    world = build_world(preset)
    rows = [r for r in load_manifest(world) if r['split'] == 'train'][:args.tracks]
    ids = [r['track_id'] for r in rows]
    paths = encoder_paths(preset, world)
    clip, _, ip = load_clip(paths['clip']); ast, _ = load_ast(paths['ast'])
    cache_model_inputs(world, rows, preset)
    config = MVPTrainConfig(epochs=1, batch_size=64)
    os.environ['MUSECHAT_HOME'] = tempfile.mkdtemp()  # a cold feature cache of our own
    # warm the cache (this first pass is the one-time cost)
    clip_frame_features(clip, ip, world, rows, preset, progress=False); ast_segment_features(ast, world, rows, preset, progress=False)

    def epoch(cache: bool) -> float:
        t = time.perf_counter()
        v = clip_frame_features(clip, ip, world, rows, preset, cache=cache, progress=False)
        m = ast_segment_features(ast, world, rows, preset, cache=cache, progress=False)
        train_mvp(v, m, ids, config, progress=False)
        return time.perf_counter() - t

    recompute = min(epoch(False) for _ in range(2))
    cached = min(epoch(True) for _ in range(2))
    print(f"preset {preset.name}, {len(rows)} tracks x {preset.n_segments} segments x {preset.frames_per_segment} frames")
    print(f"epoch recomputing CLIP + AST features: {recompute:.2f} s")
    print(f"epoch on cached features:              {cached:.2f} s")
    print(f"ratio (recompute / cached):            {recompute / cached:.1f}x")

if __name__ == '__main__':
    main()
