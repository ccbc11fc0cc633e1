"Two processes (torchrun, gloo, CPU) against one: the gathered contrastive loss, its gradients, and `fit`."
import json, os, subprocess, sys
from pathlib import Path
import torch
sys.path.insert(0, str(Path(__file__).parent))
from ddp_worker import Towers, Pairs, global_batch
from musechat.train import fit, TrainSettings

def test_two_processes_match_one(tmp_path):
    out = tmp_path / 'ddp.json'
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=os.pathsep.join([str(Path(__file__).parent), os.environ.get('PYTHONPATH', '')]))
    proc = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2',
                           str(Path(__file__).parent / 'ddp_worker.py'), str(out), str(tmp_path / 'run2')],
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(out.read_text())
    assert got['world_size'] == 2 and got['backend'] == 'gloo'
    # one process, the same global batch of 8
    a, b = global_batch()
    torch.manual_seed(0); model = Towers()
    loss = model(a, b)['loss']; loss.backward()
    assert abs(got['loss'] - loss.item()) < 1e-5, (got['loss'], loss.item())
    for name, p in model.named_parameters():
        assert torch.allclose(torch.tensor(got['grads'][name]), p.grad, atol=1e-6), name
    # fit: 2 processes x batch 4 take the same steps as 1 process x batch 8
    torch.manual_seed(0)
    res = fit(Towers(), Pairs(), TrainSettings(epochs=3, batch_size=8, lr=1e-2, warmup=2), device='cpu', out=tmp_path / 'run1', progress=False)
    assert got['fit_steps'] == res.step == 24
    for k, v in res.model.state_dict().items():
        assert torch.allclose(torch.tensor(got['fit_weights'][k]), v, atol=1e-5), k
    assert all(abs(x - y) < 1e-4 for x, y in zip(got['fit_losses'], [h['loss'] for h in res.history]))
    assert (tmp_path / 'run2' / 'train_log.csv').exists() and (tmp_path / 'run2' / 'loss.png').exists()
