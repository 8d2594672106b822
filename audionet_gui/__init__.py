"""AudioNet Studio: recognise voices and sounds with image-classification techniques."""

__version__ = "0.1.0"
