"""The feature map's 2-D embedding: seconds per N windows, and the libraries that could do it.

Features are made up: ``--classes`` clusters in ``--dim`` dimensions (the embedding's cost depends on N, hardly on
the data). For each N, ``core/model/featmap.embed_2d`` (standardise, PCA to 50, scikit-learn t-SNE) is timed, and,
when installed, openTSNE and umap-learn on the same PCA output, each in a fresh process (imports and umap's
compilation are part of what a user waits for). Quality: the share of each point's 10 nearest 2-D neighbours of
its own class. Usage:
  .venv/bin/python bench/featmap.py [--n 300 1000 3000] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
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
    from audionet_gui.core.data.doctor.suspects import standardised
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


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, nargs="+", default=[300, 1000, 3000])
    ap.add_argument("--dim", type=int, default=256)
    ap.add_argument("--classes", type=int, default=6)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--libraries", nargs="+", default=["sklearn", "opentsne", "umap"])
    args = ap.parse_args()
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
