"""Convert one audio file, in a worker process: its window images, their speech shares, its augmented copies."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from audionet_gui.core.audio.augment import AugmentConfig, augment_audio, spec_augment
from audionet_gui.core.audio.files import iter_audio_blocks
from audionet_gui.core.audio.spectrogram import SpectrogramConfig, encode_indexed_png, spectrogram_indices
from audionet_gui.core.audio.vad import SPEECH_RULE, window_speech
from audionet_gui.core.audio.windows import WindowConfig, iter_windows
from audionet_gui.core.base.fsutil import atomic_write_json
from audionet_gui.core.data.convert.augmentation import _babble_bank, _noise_bank, _room_bank


def _write_images(out: Path, images, colormap: str) -> None:
    """Write a source's window images into ``out``. No temporary names here: the folder counts only once its
    record (written atomically after the images) exists, so a crash half way leaves nothing that is used."""
    out.mkdir(parents=True, exist_ok=True)
    for fname, idx in images:
        with open(out / fname, "wb") as fh:
            fh.write(encode_indexed_png(idx, colormap))


def convert_source(source: str, out_dir: str | None, spectrogram: dict, window: dict,
                   augment: dict | None = None) -> dict:
    """Convert one audio file: window PNGs into ``out_dir`` (None: originals are cached already) and, with
    ``augment`` ({copies, seed, noise_files, digest, out_dir, label, rooms, babble, mic}), augmented copies into
    ``augment["out_dir"]``.
    Runs in worker processes: plain arguments only. Returns the record(s)."""

    spec_cfg = SpectrogramConfig.from_dict(spectrogram)
    win_cfg = WindowConfig.from_dict(window)
    sr = spec_cfg.sample_rate
    originals: list[tuple[str, np.ndarray]] = []
    copies: list[tuple[str, np.ndarray]] = []
    windows = []
    samples_read = 0

    def counted(blocks):
        nonlocal samples_read
        for block in blocks:
            samples_read += block.size
            yield block

    if augment:
        aug_cfg = AugmentConfig()
        bank = _noise_bank(tuple(augment["noise_files"]), sr)
        source_seed = int(augment["digest"][:12], 16)
        rooms = _room_bank(augment["rooms"]) if augment.get("rooms") else ()
        voices = _babble_bank(tuple(tuple(b) for b in augment.get("babble", ())), sr)
        pool = tuple(v for label, vs in sorted(voices.items()) if label != augment.get("label") for v in vs)
    vad = win_cfg.gate != "energy"  # the share of speech per window: the gate is decided and applied later
    for i, w in enumerate(iter_windows(counted(iter_audio_blocks(source, sr)), sr, win_cfg, source=source)):
        name = f"w{i:05d}"
        windows.append({"image": f"{name}.png", "start_s": round(w.start_s, 4), "end_s": round(w.end_s, 4)})
        if vad:
            windows[-1]["speech"] = window_speech(w.samples, sr, win_cfg.speech_threshold)
        if out_dir is not None:
            originals.append((f"{name}.png", spectrogram_indices(w.samples, spec_cfg)))
        for k in range(1, augment["copies"] + 1 if augment else 1):
            rng = np.random.default_rng([augment["seed"], source_seed, i, k])
            noisy = augment_audio(w.samples, sr, rng, aug_cfg, bank, rooms=rooms, babble_pool=pool,
                                  mic=bool(augment.get("mic")))
            idx = spectrogram_indices(noisy, spec_cfg)
            # masks painted with index 0: the colour of silence at the bottom of the dB range
            idx = spec_augment(idx[..., None], rng, aug_cfg.time_masks, aug_cfg.freq_masks, aug_cfg.max_time_mask,
                               aug_cfg.max_freq_mask, fill=np.zeros(1, np.uint8))[..., 0]
            copies.append((f"{name}_a{k}.png", idx))

    # Each folder's record is written after its images, by the worker: it marks the folder complete.
    record = {"windows": windows, "duration_s": samples_read / sr}
    if vad:
        record["speech_threshold"] = win_cfg.speech_threshold
        record["speech_rule"] = SPEECH_RULE
    if out_dir is not None:
        _write_images(Path(out_dir), originals, spec_cfg.colormap)
        atomic_write_json(f"{out_dir}.json", record, durable=False)
    if augment:
        aug_record = {"copies": augment["copies"],
                      "images": [[f"{Path(w['image']).stem}_a{k}.png" for k in range(1, augment["copies"] + 1)]
                                 for w in windows]}
        _write_images(Path(augment["out_dir"]), copies, spec_cfg.colormap)
        atomic_write_json(f"{augment['out_dir']}.json", aug_record, durable=False)
        record = dict(record, augmented=aug_record)
    return record
