"""Run the conversion of many files: in this process, or in a pool of worker processes that end with it."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from audionet_gui.core.base.errors import AudioFileError
from audionet_gui.core.base.jobs import CancelToken
from audionet_gui.core.base.lifeline import stop_now, worker_lifeline
from audionet_gui.core.data.convert.source import convert_source

BATCH_BYTES = 4 << 20  # short clips travel to the workers in batches: one round trip per few MB of audio


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def convert_all(todo: list[tuple], args, finish, workers: int | None, cancel: CancelToken) -> None:
    """Convert every ``todo`` item (source, images dir, augment job): ``args(*item)`` gives ``convert_source``'s
    arguments, ``finish(*item, status, payload)`` takes each result, in this process as it comes."""
    n_workers = min(workers or default_workers(), len(todo))
    if n_workers <= 1 or len(todo) < 4:
        for src, d, aug in todo:
            cancel.raise_if_cancelled()
            finish(src, d, aug, *_convert_or_error(*args(src, d, aug)))
    else:
        _convert_parallel(todo, args, finish, n_workers, cancel)


def _convert_or_error(source: str, out_dir: str | None, spectrogram: dict, window: dict,
                      augment: dict | None = None) -> tuple[str, dict]:
    try:
        return "ok", convert_source(source, out_dir, spectrogram, window, augment)
    except AudioFileError as exc:
        return "error", {"path": exc.path, "reason": exc.reason}
    except Exception as exc:
        return "error", {"path": source, "reason": f"could not be converted ({type(exc).__name__}: {exc})"}



def _convert_batch(jobs: list[tuple]) -> list[tuple[str, dict]]:
    return [_convert_or_error(*job) for job in jobs]


def _batches(todo: list[tuple], n_workers: int) -> list[list[tuple]]:
    # small enough that every worker gets several batches (even load, prompt progress and cancel)
    limit = min(BATCH_BYTES, max(1, sum(_size(item[0]) for item in todo) // (n_workers * 8)))
    batches, current, size = [], [], 0
    for item in todo:
        current.append(item)
        size += _size(item[0])
        if size >= limit or len(current) >= 64:
            batches.append(current)
            current, size = [], 0
    if current:
        batches.append(current)
    return batches


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _convert_parallel(todo, args, finish, n_workers: int, cancel: CancelToken) -> None:
    # spawn, not fork: the GUI calls this from a thread of a Qt process, where fork is unsafe.
    ctx = multiprocessing.get_context("spawn")
    pending: dict[Future, list[tuple]] = {}
    queue = list(reversed(_batches(todo, n_workers)))
    try:
        # workers end with this process, even when it is killed with SIGKILL
        with ProcessPoolExecutor(max_workers=n_workers, mp_context=ctx, **worker_lifeline()) as pool:
            try:
                while queue or pending:
                    while queue and len(pending) < n_workers * 2:
                        batch = queue.pop()
                        pending[pool.submit(_convert_batch, [args(*item) for item in batch])] = batch
                    done, _ = wait(list(pending), timeout=0.2, return_when=FIRST_COMPLETED)
                    for fut in done:
                        batch = pending[fut]
                        results = fut.result()  # BrokenProcessPool if a worker died: the batch stays pending
                        del pending[fut]
                        for item, result in zip(batch, results):
                            finish(*item, *result)
                    cancel.raise_if_cancelled()
            except KeyboardInterrupt:  # Ctrl-C or SIGTERM: stop the workers now, not after their batches
                stop_now(pool)
                raise
            except BaseException:
                for fut in pending:
                    fut.cancel()
                pool.shutdown(wait=True, cancel_futures=True)
                raise
    except BrokenProcessPool:
        # A worker process died (out of memory, killed, no way to start one): finish here, one file at a time,
        # so the job still completes and a file that crashes a decoder is the only one reported.
        for batch in list(pending.values()) + list(reversed(queue)):
            for item in batch:
                cancel.raise_if_cancelled()
                finish(*item, *_convert_or_error(*args(*item)))

