"""`train_fusions` (how `run_models` trains the tables' variants): forked one-thread workers give the models that one
process gives, into the same cache folders, and a second call trains nothing."""
import numpy as np
import pytest
import torch

@pytest.fixture(scope='module')
def smoke():
    from musechat.core import get_preset
    from musechat.world import build_world
    from musechat.manifest import load_manifest
    from musechat.two_turns import fusion_data
    preset = get_preset('smoke')
    world = build_world(preset, progress=False); rows = load_manifest(world)
    return preset, world, rows, fusion_data(preset, world, rows, progress=False)

def _queries(preset, world, data, name, seed):
    from musechat.two_turns import toy_fusion, embed_conversations
    from musechat.tables import VARIANTS
    model = toy_fusion(preset, world, data, VARIANTS[name], seed=seed, progress=False)
    return embed_conversations(model, data, data['test'][:8], device='cpu')['turn2']

def test_workers_train_what_one_process_trains(smoke, tmp_path, monkeypatch):
    from musechat.tables import train_fusions
    preset, world, rows, data = smoke
    jobs = [('MuseChat (ours)', 11), ('Sum-Fusion', 12), ('MuseChat (ours)', 13)]
    got = {}
    for workers in (2, 1):
        monkeypatch.setenv('MUSECHAT_HOME', str(tmp_path / f'home{workers}'))
        assert train_fusions(preset, world, data, jobs, workers=workers, progress=False) == jobs
        assert train_fusions(preset, world, data, jobs, workers=workers, progress=False) == []    # kept: nothing to train
        got[workers] = {j: _queries(preset, world, data, *j) for j in jobs}
    same = {j: np.abs(got[2][j] - got[1][j]).max() for j in jobs}         # one thread or two: the float sums' order only
    seeds = np.abs(got[1][jobs[0]] - got[1][jobs[2]]).max()              # another seed of the same variant
    print(f"largest difference, workers against one process: {max(same.values()):.1e}; between two seeds: {seeds:.2f}")
    assert max(same.values()) < 5e-3 < seeds / 10
