"The GPU benchmark script runs (tiny configurations, CPU): one process, and two under torchrun with the gathered loss checked."
import json, os, subprocess, sys
from pathlib import Path
ROOT = Path(__file__).resolve().parent.parent

def _run(cmd, tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    p = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr[-3000:]
    return [json.loads(l) for l in p.stdout.splitlines() if l.startswith('{')]

def test_bench_train_tiny(tmp_path):
    rows = _run([sys.executable, 'tools/bench_train.py', '--tiny', '--device', 'cpu', '--what', 'mvp,ast2,fusion,extract',
                 '--variants', 'base,b128ckpt', '--steps', '2'], tmp_path)
    got = {r['what']: r for r in rows if 'what' in r}
    assert got['mvp b34']['samples/s'] > 0 and got['ast2 base']['samples/s'] > 0 and got['ast2 b128ckpt']['batch (global)'] == 128
    assert got['store bytes per paper video']['clip'] > 0
    fusion = next(r for w, r in got.items() if w.startswith('mvt-fusion b34'))
    assert fusion['samples/s'] > 0 and fusion['batch (global)'] == 34

def test_bench_train_ddp_tiny(tmp_path):
    rows = _run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', 'tools/bench_train.py',
                 '--tiny', '--device', 'cpu', '--what', 'ddp', '--steps', '2'], tmp_path)
    gathered = next(r for r in rows if r.get('what', '').startswith('gathered CMC loss'))
    assert abs(gathered['loss (gathered)'] - gathered['loss (one process)']) < 1e-4 and gathered['backend'] == 'gloo'
    assert any(r.get('what') == 'ast2 b17 x 2 processes' and r['processes'] == 2 for r in rows)

def test_bench_generator_tiny(tmp_path):
    rows = _run([sys.executable, 'tools/bench_generator.py', '--tiny', '--device', 'cpu', '--steps', '2', '--warm', '1', '--gen-batch', '4'], tmp_path)
    got = {r['what']: r for r in rows if 'what' in r}
    train = got['train ckpt b16 L128']
    assert train['tokens/s'] > 0 and 0 < train['trainable weights'] < train['all weights'] and 'train nockpt b16 L128' in got
    assert next(r for w, r in got.items() if w.startswith('generate'))['new tokens/s (batch)'] > 0
