"""Write resources/vad/silero_vad_16k_op15.npz: the weights of Silero VAD's 16 kHz ONNX model, for the numpy
forward pass in core/audio/vad.py (run once by a developer; needs the ``onnx`` package, not the app).

    pip download --no-deps silero-vad==6.2.3 && unzip silero_vad-6.2.3-py3-none-any.whl 'silero_vad/data/*'
    python scripts/extract_silero_vad.py silero_vad/data/silero_vad_16k_op15.onnx resources/vad/silero_vad_16k_op15.npz
"""

from __future__ import annotations

import sys

import numpy as np
import onnx
from onnx import numpy_helper

NAMES = {"stft_conv.weight": "model.stft.forward_basis_buffer",
         "final_conv.weight": "model.decoder.decoder.2.weight", "final_conv.bias": "model.decoder.decoder.2.bias"}
NAMES.update({f"conv{i + 1}.{p}": f"model.encoder.{i}.reparam_conv.{p}" for i in range(4) for p in ("weight", "bias")})
NAMES.update({f"lstm_cell.{p}": f"model.decoder.rnn.{p}" for p in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")})


def main() -> None:
    src, dst = sys.argv[1], sys.argv[2]
    init = {i.name: numpy_helper.to_array(i) for i in onnx.load(src).graph.initializer}
    np.savez_compressed(dst, **{ours: init[theirs].astype(np.float32) for ours, theirs in NAMES.items()})


if __name__ == "__main__":
    main()
