"""Every notebook is a lesson of one shape (issue 11): it opens with what the student will learn and which part of the
paper it is, keeps its cells short and its prose beside its code, turns one knob and plots the effect, shows a figure or
table a reader sees without running anything, and ends with exercises.

Run on one notebook while writing it: `python tests/test_notebooks.py nbs/10_mvp.ipynb [--no-outputs]`."""
import json, re, sys
from pathlib import Path
import pytest

NBS = Path(__file__).resolve().parent.parent / 'nbs'
NOT_LESSONS = {'index.ipynb'}   # the README
MAX_CELL_LINES = 30
MIN_PROSE_RATIO = .3
EXERCISES = (3, 5)

def _lines(cell) -> list[str]:
    "The cell's non-blank lines; nbdev's directive lines (`#| export`) are not code a student reads."
    src = ''.join(cell['source']) if isinstance(cell['source'], list) else cell['source']
    return [l for l in src.split('\n') if l.strip() and not (cell['cell_type'] == 'code' and l.lstrip().startswith('#|'))]

def _text(cell) -> str: return ''.join(cell['source']) if isinstance(cell['source'], list) else cell['source']

def _has_figure_or_table(cell) -> bool:
    for out in cell.get('outputs', []):
        data = out.get('data', {})
        if 'image/png' in data or 'image/svg+xml' in data: return True
        html = ''.join(data.get('text/html', []))
        md = ''.join(data.get('text/markdown', []))
        if '<table' in html or re.search(r'^\|.*\|\s*$\n^\|[\s:|-]+\|\s*$', md, re.M): return True
    return False

def lesson_problems(path, outputs: bool = True) -> list[str]:
    "What keeps the notebook at `path` from the lesson shape (empty when it has it)."
    path = Path(path); cells = json.loads(path.read_text())['cells']
    problems = []
    if not cells or cells[0]['cell_type'] != 'markdown': return [f"{path.name}: the first cell is not prose"]
    first = _text(cells[0])
    if not first.lstrip().startswith('# '): problems.append('the first cell does not open with a `# ` title')
    if not re.search(r'you will learn', first, re.I): problems.append('the first cell does not say what the student will learn')
    if not re.search(r'\*\*Paper', first): problems.append('the first cell does not say which part of the paper it is (**Paper**)')
    if not re.search(r'\*\*Needs', first) or not re.search(r'\*\*Creates', first):
        problems.append('the first cell does not say what the notebook needs and creates (**Needs** / **Creates**)')
    code = [c for c in cells if c['cell_type'] == 'code']
    long = [len(_lines(c)) for c in code if len(_lines(c)) > MAX_CELL_LINES]
    if long: problems.append(f"{len(long)} code cell(s) longer than {MAX_CELL_LINES} lines ({', '.join(map(str, long))})")
    prose = sum(len(_lines(c)) for c in cells if c['cell_type'] == 'markdown')
    ratio = prose / max(1, sum(len(_lines(c)) for c in code))
    if ratio < MIN_PROSE_RATIO: problems.append(f"prose:code is {ratio:.2f} (at least {MIN_PROSE_RATIO})")
    heads = [(i, l) for i, c in enumerate(cells) if c['cell_type'] == 'markdown' for l in _text(c).split('\n') if l.startswith('#')]
    if not any(re.search(r'knob', l, re.I) for _, l in heads): problems.append('no section that turns a knob (a heading with "knob")')
    ex = [i for i, l in heads if re.match(r'#+\s*Exercises', l)]
    if not ex: problems.append('no "## Exercises" section')
    else:
        if any(c['cell_type'] == 'code' for c in cells[ex[-1]:]): problems.append('code after the exercises: they must end the lesson')
        items = [l for c in cells[ex[-1]:] for l in _text(c).split('\n') if re.match(r'\d+\.\s', l)]
        if not EXERCISES[0] <= len(items) <= EXERCISES[1]:
            problems.append(f"{len(items)} exercises (numbered `1. `), not {EXERCISES[0]}-{EXERCISES[1]}")
    if outputs and not any(_has_figure_or_table(c) for c in code):
        problems.append('no stored figure or table output (run tools/run_notebooks.py to execute and store outputs)')
    return [f"{path.name}: {p}" for p in problems]

LESSONS = sorted(p for p in NBS.glob('*.ipynb') if p.name not in NOT_LESSONS)

@pytest.mark.parametrize('path', LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_shape(path):
    problems = lesson_problems(path)
    assert not problems, '\n'.join(problems)

def test_the_check_can_fail(tmp_path):
    "A notebook of code alone, with nothing to look at and no exercises, is refused on every count."
    nb = {'cells': [{'cell_type': 'markdown', 'source': 'Some notes', 'metadata': {}},
                    {'cell_type': 'code', 'source': '\n'.join(f'x{i} = {i}' for i in range(40)), 'outputs': [], 'metadata': {}}]}
    (tmp_path / 'bad.ipynb').write_text(json.dumps(nb))
    problems = '\n'.join(lesson_problems(tmp_path / 'bad.ipynb'))
    for bit in ('title', 'will learn', 'Paper', 'Needs', 'longer than 30', 'prose:code', 'knob', 'Exercises', 'stored figure'):
        assert bit in problems, bit

if __name__ == '__main__':
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    found = [p for a in (args or map(str, LESSONS)) for p in lesson_problems(a, outputs='--no-outputs' not in sys.argv)]
    print('\n'.join(found) or 'lesson shape: ok')
    sys.exit(1 if found else 0)
