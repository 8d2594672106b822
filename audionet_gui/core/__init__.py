"""Qt-free engine: audio, windows, spectrograms, datasets, training, inference.

Nothing under this package may import Qt; the CLI, the tests and the GUI workers all call it.
"""
