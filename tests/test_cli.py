"""The `musechat` console script as a user runs it: exit codes, files written, one-line errors."""
import json, os, shutil, subprocess, sys
from pathlib import Path
import pytest

BIN = Path(sys.executable).parent / 'musechat'

def run(*args, **kw):
    return subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True, **kw)

@pytest.fixture(scope='module')
def home(tmp_path_factory):
    os.environ['MUSECHAT_HOME'] = str(tmp_path_factory.mktemp('home'))
    yield Path(os.environ['MUSECHAT_HOME'])

def test_reproduce_smoke(home, tmp_path):
    out = tmp_path / 'results'
    r = run('reproduce', '--preset', 'smoke', '--out', out)
    assert r.returncode == 0, r.stderr
    report = (out / 'REPORT.md').read_text()
    for fig in ('fig6_tag_distribution.png', 'fig7_tag_correlation.png'):
        assert (out / 'figures' / fig).stat().st_size > 10_000 and f'figures/{fig}' in report
    assert (out / 'world' / 'manifest.jsonl').exists() and (out / 'tables' / 'world_summary.csv').exists()
    assert (out / 'tables' / 'table5_first_turn.csv').read_text().startswith('model,MR,R@1,R@5,R@10')
    assert len((out / 'candidates.jsonl').read_text().splitlines()) == 120 and (out / 'dataset' / 'dataset_dict.json').exists()
    rows = [json.loads(l) for l in (out / 'world' / 'manifest.jsonl').read_text().splitlines()]
    assert len(rows) == 120 and all(len(r['msd_tags']) == 5 and len(r['mtt_tags']) == 5 for r in rows)
    again = run('reproduce', '--preset', 'smoke', '--out', out)  # reuses the world and the output folder
    assert again.returncode == 0, again.stderr

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
