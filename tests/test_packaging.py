"""What `pip install .` gives a user is enough to import and run the package (not only what `make test` installs)."""
import ast, configparser, re, sys
import importlib.metadata as md
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def _name(requirement: str) -> str:
    return re.split(r'[<>=!~ ;\[(]', requirement.strip(), maxsplit=1)[0].lower().replace('_', '-')

def installed_by_requirements() -> set:
    "The distributions `pip install .` brings: settings.ini's `requirements` and, recursively, what they require."
    cfg = configparser.ConfigParser(); cfg.read(ROOT / 'settings.ini')
    todo, seen = [_name(r) for r in cfg['DEFAULT']['requirements'].split()], set()
    while todo:
        name = todo.pop()
        if name in seen: continue
        seen.add(name)
        try: deps = md.requires(name) or []
        except md.PackageNotFoundError: continue
        todo += [_name(d) for d in deps if 'extra ==' not in d]
    return seen

def test_every_import_is_a_runtime_requirement():
    "A package musechat imports (at the top or inside a function) must come with `pip install .`, not only with [dev]."
    have, dists, missing = installed_by_requirements(), md.packages_distributions(), {}
    for path in sorted((ROOT / 'musechat').glob('*.py')):
        for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
            if isinstance(node, ast.Import): names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module: names = [node.module]
            else: continue
            for top in {n.split('.')[0] for n in names} - set(sys.stdlib_module_names) - {'musechat'}:
                if not any(_name(d) in have for d in dists.get(top, [top])): missing.setdefault(top, path.name)
    assert not missing, f"imported but not installed by settings.ini's requirements: {missing}"
