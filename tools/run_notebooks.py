"""Run the notebooks as a student does (a Jupyter kernel, top to bottom, the toy preset) and print each one's time.

    python tools/run_notebooks.py                      # every lesson, in course order; a table of seconds per notebook
    python tools/run_notebooks.py 10_mvp 13_fusion     # some of them
    python tools/run_notebooks.py --store              # ... and keep the executed outputs in nbs/ (figures a reader sees)

Artefacts the notebooks build (the world, encoders, trained models) go to the cache (`MUSECHAT_HOME`, default
`<checkout>/cache`), so the first notebook that needs one pays for it: run from a fresh clone to time a student's first
pass. A notebook that fails is reported with its error and its file is left as it was. Exit status 1 if any failed or
took longer than `--limit` seconds."""
import argparse, json, os, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NBS = ROOT / 'nbs'
NOT_LESSONS = {'index'}

def lessons(names=()) -> list[Path]:
    "The lesson notebooks named (stems or file names), or all of them in course order."
    every = sorted(p for p in NBS.glob('*.ipynb') if p.stem not in NOT_LESSONS)
    if not names: return every
    by = {p.stem: p for p in every}
    missing = [n for n in names if Path(n).stem not in by]
    if missing: raise SystemExit(f"no such notebook in {NBS}: {', '.join(missing)}")
    return [by[Path(n).stem] for n in names]

_SOCKETS = None   # the folder of the kernels' sockets, made by main

def _ipc_kernel_manager():
    "A kernel manager that talks to its kernel over local sockets (the default TCP one warns about plain text once a kernel)."
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default
    class IPCKernelManager(AsyncKernelManager):
        @default('transport')
        def _default_transport(self): return 'ipc'
        @default('ip')      # an absolute socket path: the kernel runs in nbs/, this process elsewhere
        def _default_ip(self): return str(Path(_SOCKETS.name) / 'kernel')
    return IPCKernelManager

def run_one(path: Path, preset: str, timeout: int) -> tuple[float, str | None, object]:
    "Execute `path` in a fresh kernel (cwd `nbs/`); returns (seconds, error or None, the executed notebook)."
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    nb = nbformat.read(path, as_version=4)
    env = {**os.environ, 'MUSECHAT_PRESET': preset}
    env.pop('IN_TEST', None)
    client = NotebookClient(nb, timeout=timeout, kernel_name='python3', resources={'metadata': {'path': str(NBS)}},
                            kernel_manager_class=_ipc_kernel_manager())
    t0, error = time.time(), None
    old = dict(os.environ)
    os.environ.clear(); os.environ.update(env)        # the kernel inherits this process's environment
    try: client.execute()
    except CellExecutionError as e: error = str(e).strip().split('\n')[-1][:300]
    except Exception as e: error = f"{type(e).__name__}: {e}"[:300]
    finally: os.environ.clear(); os.environ.update(old)
    return time.time() - t0, error, nb

def store(path: Path, nb) -> int:
    """Write the executed notebook over `path` without the widgets' live state (`nbdev_clean` then strips the rest of
    the metadata); returns its size in bytes."""
    import nbformat
    nb.metadata.pop('widgets', None)    # live widget state: hundreds of KiB that no static reader can show
    tmp = path.with_name(f'.{path.name}.tmp')
    nbformat.write(nb, tmp); os.chmod(tmp, 0o644); os.replace(tmp, path)
    return path.stat().st_size

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('notebooks', nargs='*', help='notebook stems (default: every lesson, in order)')
    p.add_argument('--preset', default='toy')
    p.add_argument('--store', action='store_true', help="keep the executed outputs in nbs/")
    p.add_argument('--limit', type=float, default=180, help='seconds a notebook may take (default 180)')
    p.add_argument('--timeout', type=int, default=1800, help='seconds one cell may take before the run gives up')
    p.add_argument('--table', help='also write the timing table (markdown) here')
    args = p.parse_args(argv)
    global _SOCKETS
    import tempfile
    _SOCKETS = tempfile.TemporaryDirectory(prefix='musechat-kernels-')
    rows, bad = [], 0
    for path in lessons(args.notebooks):
        print(f"{path.stem} ...", end=' ', flush=True)
        seconds, error, nb = run_one(path, args.preset, args.timeout)
        size = store(path, nb) if args.store and not error else None
        verdict = 'error' if error else ('over' if seconds > args.limit else 'ok')
        bad += verdict != 'ok'
        print(f"{seconds:6.1f} s {verdict}" + (f" ({size / 1024:.0f} KiB stored)" if size else '') + (f": {error}" if error else ''))
        rows.append((path.stem, seconds, verdict, error))
    total = sum(r[1] for r in rows)
    table = ['| notebook | seconds | ≤ %g s |' % args.limit, '|---|---:|---|',
             *[f"| {n} | {s:.0f} | {v}{': ' + e if e else ''} |" for n, s, v, e in rows], f"| all | {total:.0f} | |"]
    print('\n'.join(table))
    if args.table: Path(args.table).write_text('\n'.join(table) + '\n')
    return 1 if bad else 0

if __name__ == '__main__':
    sys.exit(main())
