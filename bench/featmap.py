"""The feature map's 2-D embedding: seconds per N windows, and the libraries that could do it.

Features are made up: ``--classes`` clusters in ``--dim`` dimensions (the embedding's cost depends on N, hardly on
the data). For each N, ``core/model/featmap.embed_2d`` (standardise, PCA to 50, scikit-learn t-SNE) is timed, and,
when installed, openTSNE and umap-learn on the same PCA output, each in a fresh process (imports and umap's
compilation are part of what a user waits for). Quality: the share of each point's 10 nearest 2-D neighbours of
its own class. Usage:
  .venv/bin/python bench/featmap.py [--n 300 1000 3000] [--threads 1]

``--model DIR`` times a real model's map instead, each step in a fresh process as the app runs it (the modules the
job runner's fork server preloads are imported before the clock starts), with an empty cache (or ``--cache DIR``:
its features are used, its kept map is replaced):
  page      the page's job with no kept map: TensorFlow, the model, its features, the judge, t-SNE
  training  what training adds: the map made with the model already loaded (featmap_make.make_map) and kept
  opened    the page's job once training kept the map: what the user waits for after training
The load average is printed beside each figure (the machine is shared). ``--window`` adds two rows timed in the
real main window (offscreen): from "the model becomes the project's" to the page drawing its map, with no kept map
(window:page, always an empty cache) and with the map training kept (window:opened); the fork server is up first.
  PYTHONPATH=$PWD nice -n 10 .venv/bin/python bench/featmap.py --model /path/to/model [--repeat 2] [--window]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHILD = r"""
import json, sys, time
t0 = time.monotonic()
import numpy as np
sys.path.insert(0, {root!r})
which, n, dim, k, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
rng = np.random.default_rng(0)
y = rng.integers(0, k, n)
x = (rng.normal(0, 1.0, (k, dim))[y] + rng.normal(0, 1.2, (n, dim))).astype(np.float32)
start = time.monotonic(); cpu = time.process_time()
if which == "sklearn":
    from audionet_gui.core.model.featmap import embed_2d
    xy, _ = embed_2d(x, threads=threads)
else:
    from audionet_gui.core.data.doctor.judge import standardised
    from sklearn.decomposition import PCA
    p = PCA(min(50, n - 1), random_state=0).fit_transform(standardised(x))
    if which == "opentsne":
        from openTSNE import TSNE
        xy = np.asarray(TSNE(n_jobs=threads, random_state=0, perplexity=min(30, (n - 1) / 3)).fit(p))
    else:
        import umap
        xy = umap.UMAP(n_components=2, n_jobs=threads).fit_transform(p)
wall, cpu = time.monotonic() - start, time.process_time() - cpu
d = ((xy[:, None] - xy[None]) ** 2).sum(-1) + np.eye(n) * 1e18
nn = np.argsort(d, 1)[:, :10]
print(json.dumps({{"wall": wall, "cpu": cpu, "purity": float((y[nn] == y[:, None]).mean())}}))
"""


MODEL_CHILD = r"""
import json, sys, time
sys.path.insert(0, {root!r})
from pathlib import Path
import importlib
from audionet_gui.qt.job_runner import FORKSERVER_PRELOAD
for name in FORKSERVER_PRELOAD:
    importlib.import_module(name)
which, model, cache = sys.argv[1], sys.argv[2], Path(sys.argv[3])
out = {{}}
if which == "training":
    from audionet_gui.core.model.bundle import load_bundle
    from audionet_gui.core.model.featmap import map_rows
    from audionet_gui.core.model.featmap_make import keep_map, make_map
    t = time.monotonic()
    bundle = load_bundle(model)  # training has TensorFlow and the model already: not counted below
    out["not counted: load"] = time.monotonic() - t
    start = time.monotonic(); cpu = time.process_time()
    workspace, rows = map_rows(bundle)
    fmap = make_map(bundle, workspace, rows, cache / "features", stage="mapping")
    fmap.made_by = "training"
    keep_map(fmap, cache, Path(model), workspace)
    out.update(fmap.seconds)
else:
    from audionet_gui.core.model.featmap import feature_map
    start = time.monotonic(); cpu = time.process_time()
    fmap = feature_map(model, cache_dir=cache, use_cache=which == "opened")  # page: never a kept map
    out.update(fmap.seconds if not fmap.cached else {{"read from the cache": True, "made by": fmap.made_by}})
out["wall"], out["cpu"] = time.monotonic() - start, time.process_time() - cpu
out["windows"] = len(fmap)
print(json.dumps(out))
"""


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


def bench_model(model: str, cache: str | None, repeat: int, window: bool = False) -> None:
    """The three steps of --model (see the module's docstring), ``repeat`` times, each in a fresh process."""
    code = MODEL_CHILD.format(root=str(ROOT))
    print(f"{'step':13} {'wall s':>7} {'cpu s':>6}  {'load (1, 5, 15 min)':20} stages")
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="featmap-bench-") as tmp:
            if window:
                with tempfile.TemporaryDirectory(prefix="featmap-bench-window-") as empty:
                    window_rows(model, empty, "window:page")
            for step in ("page", "training", "opened"):
                before = load_average()
                out = subprocess.run([sys.executable, "-c", code, step, model, cache or tmp],
                                     capture_output=True, text=True)
                if out.returncode:
                    print(f"{step:13} failed: {out.stderr.strip().splitlines()[-1][:100]}")
                    return
                r = json.loads(out.stdout.strip().splitlines()[-1])
                stages = ", ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in r.items()
                                   if k not in ("wall", "cpu"))
                print(f"{step:13} {r['wall']:7.2f} {r['cpu']:6.2f}  {before:20} {stages}")
            if window:
                window_rows(model, cache or tmp, "window:opened")


def window_child(model: str, cache: str) -> None:
    """One --window row, in a process of its own (``AUDIONET_CACHE_DIR`` set by the parent): prints the seconds from
    setting the model to the Feature map page holding its map, and whether the map was training's."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings  # noqa: PLC0415 - Qt only in this mode
    from PySide6.QtWidgets import QApplication  # noqa: PLC0415 - as above

    from audionet_gui.ui.state import ModelInfo  # noqa: PLC0415 - as above
    from audionet_gui.ui.window.main_window import MainWindow  # noqa: PLC0415 - as above

    app = QApplication([])
    w = MainWindow(QSettings(str(Path(cache) / "bench.ini"), QSettings.IniFormat),
                   output_root=Path(cache) / "projects")
    w.show()
    ready = time.monotonic() + 5
    while time.monotonic() < ready:  # the fork server starts with the window, long before training ends
        app.processEvents()
        time.sleep(0.01)
    start = time.monotonic()
    w.state.set_model(ModelInfo.read(model))
    w.go_to("Feature map")
    while w.feature_map.fmap is None and time.monotonic() - start < 600:
        app.processEvents()
        time.sleep(0.005)
    fmap = w.feature_map.fmap
    print(json.dumps({"wall": time.monotonic() - start, "made by": fmap.made_by if fmap else "none"}))
    w.mapper.shutdown()
    os._exit(0)  # skip Qt's and TensorFlow's teardown


def window_rows(model: str, cache: str | None, step: str) -> None:
    env = {**os.environ, "AUDIONET_CACHE_DIR": cache}
    load = load_average()
    out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--window-child", model, cache],
                         capture_output=True, text=True, env=env)
    if out.returncode:
        print(f"{step:13} failed: {(out.stderr.strip().splitlines() or ['?'])[-1][:100]}")
        return
    r = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"{step:13} {r['wall']:7.2f} {'':>6}  {load:20} made by {r['made by']}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, nargs="+", default=[300, 1000, 3000])
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--classes", type=int, default=6)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--libraries", nargs="+", default=["sklearn", "opentsne", "umap"])
    ap.add_argument("--model", metavar="DIR", help="time the map of this model folder (see the docstring)")
    ap.add_argument("--cache", metavar="DIR", help="with --model: this cache instead of an empty one")
    ap.add_argument("--repeat", type=int, default=1, help="with --model: how many times")
    ap.add_argument("--window", action="store_true", help="with --model: also time the real window (offscreen)")
    ap.add_argument("--window-child", nargs=2, metavar=("MODEL", "CACHE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.window_child:
        window_child(*args.window_child)
    if args.model:
        bench_model(args.model, args.cache, args.repeat, args.window)
        return
    code = CHILD.format(root=str(ROOT))
    print(f"{'library':10} {'N':>6} {'wall s':>8} {'cpu s':>8} {'10-NN purity':>13}")
    for which in args.libraries:
        for n in args.n:
            out = subprocess.run([sys.executable, "-c", code, which, str(n), str(args.dim), str(args.classes),
                                  str(args.threads)], capture_output=True, text=True)
            if out.returncode:
                print(f"{which:10} {n:>6}  not run: {out.stderr.strip().splitlines()[-1][:80]}")
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{which:10} {n:>6} {r['wall']:8.2f} {r['cpu']:8.2f} {r['purity']:13.3f}")


if __name__ == "__main__":
    t = time.monotonic()
    main()
    print(f"({time.monotonic() - t:.0f} s)")
