"""The `musechat` console script as a user runs it: exit codes, files written, one-line errors."""
import json, os, shutil, subprocess, sys
from pathlib import Path
import pytest

BIN = Path(sys.executable).parent / 'musechat'

def run(*args, **kw):
    return subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True, **kw)

@pytest.fixture(scope='module')
def home():
    # The checkout's cache, which `make test`'s notebooks filled a moment ago: the smoke world, encoders and models are
    # reused (every artefact is keyed by what made it), so these tests check the command, not a second cold build.
    from musechat.core import musechat_home
    yield musechat_home()

def test_reproduce_smoke(home, tmp_path):
    out = tmp_path / 'results'
    r = run('reproduce', '--preset', 'smoke', '--out', out)
    assert r.returncode == 0, r.stderr
    report = (out / 'REPORT.md').read_text()
    for fig in ('fig6_tag_distribution.png', 'fig7_tag_correlation.png'):
        assert (out / 'figures' / fig).stat().st_size > 10_000 and f'figures/{fig}' in report
    assert (out / 'world' / 'manifest.jsonl').exists() and (out / 'tables' / 'world_summary.csv').exists()
    assert (out / 'tables' / 'table5_first_turn.csv').read_text().startswith('model,MR,R@1,R@5,R@10')
    assert len((out / 'candidates.jsonl').read_text().splitlines()) == 120 and len(list(out.glob('dialogues/*/dataset/dataset_dict.json'))) == 1
    rows = [json.loads(l) for l in (out / 'world' / 'manifest.jsonl').read_text().splitlines()]
    assert len(rows) == 120 and all(len(r['msd_tags']) == 5 and len(r['mtt_tags']) == 5 for r in rows)
    for name in ('table3', 'table3_verdicts', 'table4_proxies', 'table4_proxies_verdicts', 'explanation_examples'):
        assert (out / 'tables' / f'{name}.csv').stat().st_size > 100, name
    assert (out / 'tables' / 'table3.csv').read_text().startswith('model,BERTScore F1')
    assert (out / 'figures' / 'reasoning.png').stat().st_size > 10_000 and 'Table 3' in report
    log = (r.stdout + r.stderr).replace('\r', '\n').splitlines()      # output to a pipe, as `make reproduce > log`
    assert len(log) < 60, f"{len(log)} lines of log:\n" + '\n'.join(log[:80])
    private = [str(p) for p in out.rglob('*') if 'world' not in p.relative_to(out).parts and p.stat().st_mode & 0o044 != 0o044]
    assert not private, f"files others cannot read: {private[:5]}"
    again = run('reproduce', '--preset', 'smoke', '--out', out)  # reuses the world and the output folder
    assert again.returncode == 0, again.stderr

def test_chat_answers_each_line(home, tmp_path):
    "`musechat chat` driven through its standard input: turn 1, then one answer per wish, the conversation saved; bad videos in one line."
    world = Path(run('world', '--preset', 'smoke').stdout.strip())
    rows = [json.loads(l) for l in (world / 'manifest.jsonl').read_text().splitlines()]
    video = world / next(r for r in rows if r['split'] == 'test')['video_path']
    wishes = ['I would like more jazz influences.', 'Something with female vocals, please.', 'More piano.']
    r = run('chat', '--preset', 'smoke', '--video', video, '--save', tmp_path / 'chat.json', input='\n'.join(wishes) + '\n')
    assert r.returncode == 0, r.stderr
    assert [l.split(':')[0] for l in r.stdout.splitlines() if l.startswith('MuseChat (turn')] == [f'MuseChat (turn {k})' for k in (1, 2, 3, 4)]
    saved = json.loads((tmp_path / 'chat.json').read_text())
    assert [t['text'] for t in saved if t['role'] == 'user'][1:] == wishes and len({t['track_id'] for t in saved if t['role'] == 'system'}) == 4
    assert all(t['text'] for t in saved)                              # every answer explained
    heard = [l.strip() for l in r.stdout.splitlines() if l.strip().startswith('(Heard:')]
    assert len(heard) == 3 and heard[0].startswith('(Heard: jazz (') and 'female vocals (' in heard[1], heard
    assert [h['phrase'] for h in saved[-1]['heard']] == ['piano']    # what was heard is kept with the conversation
    (tmp_path / 'clip.mp4').write_bytes(b'\x00' * 100)
    r = run('chat', '--preset', 'smoke', '--video', tmp_path / 'clip.mp4', input='more jazz\n')
    assert r.returncode == 2 and 'Traceback' not in r.stderr and 'cannot recommend music for it' in r.stderr.strip().splitlines()[-1]

def test_prepare_mixed_folder(home, tmp_path):
    from musechat.media import write_test_video
    videos = tmp_path / 'videos'; videos.mkdir()
    write_test_video(videos / 'a.mp4', 5)
    write_test_video(videos / 'b.mkv', 5)
    (videos / 'readme.txt').write_text('not a video')
    write_test_video(videos / 'silent.mp4', 5, audio=False)
    out = tmp_path / 'prepared'
    r = run('prepare', '--videos', videos, '--out', out, '--preset', 'smoke')
    assert r.returncode == 1
    assert 'processed 2, reused 0, skipped 2' in r.stdout
    assert f'skipped {videos / "silent.mp4"}: no audio stream' in r.stdout
    assert f'skipped {videos / "readme.txt"}: not a media file' in r.stdout
    skipped = [json.loads(l) for l in (out / 'skipped.jsonl').read_text().splitlines()]
    assert sorted(Path(s['path']).name for s in skipped) == ['readme.txt', 'silent.mp4']
    rows = [json.loads(l) for l in (out / 'manifest.jsonl').read_text().splitlines()]
    assert len(rows) == 2 and 'tagged 2 track(s)' in r.stdout  # the smoke mini-AST (pretrained by the test above) tagged them
    assert all(len(row['msd_tags']) == 5 and len(row['mtt_tags']) == 5 for row in rows)
    (videos / 'readme.txt').unlink(); (videos / 'silent.mp4').unlink()
    r = run('prepare', '--videos', videos, '--out', out, '--preset', 'smoke', '--workers', '2')
    assert r.returncode == 0 and 'processed 0, reused 2, skipped 0' in r.stdout, r.stdout + r.stderr

def test_errors_are_one_line(home, tmp_path):
    r = run('prepare', '--videos', tmp_path / 'nowhere', '--out', tmp_path / 'o')
    assert r.returncode == 2 and r.stderr.strip().count('\n') == 0 and 'not a folder of videos' in r.stderr
    r = run('reproduce', '--preset', 'paper', '--out', tmp_path / 'o')
    assert r.returncode == 2 and 'musechat prepare' in r.stderr and 'Traceback' not in r.stderr
    r = run('prepare', '--videos', tmp_path, '--out', tmp_path / 'o', '--tagger', tmp_path / 'no-such-tagger')
    assert r.returncode == 2 and 'no such folder' in r.stderr and 'Traceback' not in r.stderr
    r = run('reproduce', '--preset', 'huge')
    assert r.returncode == 2 and "invalid choice: 'huge'" in r.stderr

def test_train_killed_and_resumed(home, tmp_path):
    "`musechat train`, killed (SIGKILL) mid-epoch after a checkpoint and resumed, ends with the uninterrupted run's weights."
    import signal, time
    from safetensors.torch import load_file
    args = ['train', '--preset', 'smoke', '--device', 'cpu', '--set', 'epochs=200', '--set', 'checkpoint_every=7']
    whole = run(*args, '--out', tmp_path / 'whole')       # also builds the smoke world, encoders and features once
    assert whole.returncode == 0, whole.stderr
    metrics = json.loads((tmp_path / 'whole' / 'metrics.json').read_text())
    assert metrics['steps'] == 600 and 0 <= metrics['R@1'] <= 100
    out = tmp_path / 'killed'
    proc = subprocess.Popen([str(BIN), *args, '--out', str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not list((out / 'checkpoints').glob('step-*.pt')) and time.time() < deadline and proc.poll() is None: time.sleep(.01)
    time.sleep(.05)
    proc.send_signal(signal.SIGKILL); proc.wait()
    assert proc.returncode == -signal.SIGKILL, 'the run finished before it could be killed'
    steps = sorted(int(p.stem.split('-')[1]) for p in (out / 'checkpoints').glob('step-*.pt'))
    assert steps and steps[-1] < 600 and not (out / 'model').exists()
    resumed = run(*args, '--out', out, '--resume', 'latest')
    assert resumed.returncode == 0, resumed.stderr
    a, b = load_file(tmp_path / 'whole' / 'model' / 'model.safetensors'), load_file(out / 'model' / 'model.safetensors')
    assert a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a), 'resumed weights differ from the uninterrupted run'
    assert json.loads((out / 'metrics.json').read_text()) == metrics
    bad = run('train', '--preset', 'smoke', '--out', tmp_path / 'x', '--set', 'batchsize=3')
    assert bad.returncode == 2 and 'expected FIELD=VALUE' in bad.stderr

def test_train_two_processes(home, tmp_path):
    "`torchrun --nproc_per_node 2 -m musechat.train`: the two processes extract half the feature store each, then train with DDP."
    import glob
    shutil.rmtree(home / 'features', ignore_errors=True)      # extracted afresh, split between the two processes
    env = dict(os.environ, OMP_NUM_THREADS='1')
    r = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node', '2', '-m', 'musechat.train',
                        '--preset', 'smoke', '--device', 'cpu', '--out', str(tmp_path / 'ddp'), '--set', 'epochs=5'],
                       capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    metrics = json.loads((tmp_path / 'ddp' / 'metrics.json').read_text())
    rows = [json.loads(l) for l in next(home.glob('worlds/smoke-*/manifest.jsonl')).read_text().splitlines()]
    n_train = sum(row['split'] == 'train' for row in rows)
    assert metrics['steps'] == 5 * (n_train // 2 // 32)          # each process: half the videos, batches of 32
    assert 'extracted 60 video(s)' in r.stderr                     # rank 0 encoded its half of the 120 videos
    assert len(glob.glob(str(home / 'features' / 'clip-*' / 'parts' / '*.npz'))) == 120
    assert len(glob.glob(str(home / 'features' / 'ast-*' / 'parts' / '*.npz'))) == 120
    assert (tmp_path / 'ddp' / 'model' / 'model.safetensors').exists() and (tmp_path / 'ddp' / 'loss.png').exists()

def test_training_bar_honours_the_log_interval():
    "`fit`'s bar, written to a pipe with the quiet-log settings, redraws at most once a minute (not once a second)."
    code = '''
import time, torch
from torch import nn
from musechat.train import fit, TrainSettings
class M(nn.Module):
    def __init__(self): super().__init__(); self.w = nn.Linear(2, 1)
    def forward(self, x): return {'loss': self.w(x).pow(2).mean()}
data = [{'x': torch.randn(2)} for _ in range(64)]
fit(M(), data, TrainSettings(max_steps=120, batch_size=8), device='cpu', callback=lambda step, loss: time.sleep(.05))
'''
    env = dict(os.environ, TQDM_MININTERVAL='60', TQDM_DELAY='0')
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    draws = r.stderr.count('training:')
    assert 1 <= draws <= 3, f"{draws} drawings of a 6-second bar:\n{r.stderr[-1500:]}"
