"""The dataset doctor: what is wrong with a folder of classes before a network learns it (see ``run.py``)."""
