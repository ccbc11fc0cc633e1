"""README.md is generated from nbs/index.ipynb and opens with the two set-up commands that CI and users run."""
import re, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def test_readme_is_generated_from_index():
    r = subprocess.run([sys.executable, str(ROOT / 'tools' / 'make_readme.py'), '--check'], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout

def test_readme_opens_with_the_two_commands():
    text = (ROOT / 'README.md').read_text()
    first_block = re.search(r'```sh\n(.*?)```', text, re.S).group(1)
    commands = [l.split('#')[0].strip() for l in first_block.strip().splitlines()]
    assert commands == ['make reproduce', 'make test']
    assert text.index('make reproduce') < text.index('## ')  # before any section

def test_ci_runs_the_readme_test_command():
    lines = [l.strip() for l in (ROOT / '.ci' / 'run').read_text().splitlines() if l.strip() and not l.startswith('#')]
    assert lines[-1] == 'make test'
