"""Look and feel: Fusion style, a light or dark palette (following the system unless the user chose),
high-DPI behaviour, and pyqtgraph colours that match the palette."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

THEMES = ("system", "light", "dark")

# Colours for class series (curves, bars, timeline): distinct in both themes and for common colour blindness
# (Okabe-Ito, then a few more).
SERIES_COLORS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999",
                 "#7B61FF", "#00A6A6", "#B15928", "#6A3D9A"]


def series_color(i: int) -> str:
    return SERIES_COLORS[i % len(SERIES_COLORS)]


def prepare_high_dpi() -> None:
    """Call before the QApplication exists: fractional scale factors (125 %, 150 %) are used as they are,
    so text and plots are not blurred or jumping between 1x and 2x."""
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)


def system_prefers_dark(app: QApplication) -> bool:
    try:
        return app.styleHints().colorScheme() == Qt.ColorScheme.Dark
    except AttributeError:  # older Qt: judge by the window colour
        return app.palette().color(QPalette.Window).lightness() < 128


def dark_palette() -> QPalette:
    p = QPalette()
    base, alt, window, text = QColor("#1e1f22"), QColor("#2b2d30"), QColor("#2b2d30"), QColor("#dfe1e5")
    disabled = QColor("#7a7e85")
    p.setColor(QPalette.Window, window)
    p.setColor(QPalette.WindowText, text)
    p.setColor(QPalette.Base, base)
    p.setColor(QPalette.AlternateBase, alt)
    p.setColor(QPalette.ToolTipBase, QColor("#3c3f41"))
    p.setColor(QPalette.ToolTipText, text)
    p.setColor(QPalette.PlaceholderText, disabled)
    p.setColor(QPalette.Text, text)
    p.setColor(QPalette.Button, QColor("#393b40"))
    p.setColor(QPalette.ButtonText, text)
    p.setColor(QPalette.BrightText, QColor("#ff6b68"))
    p.setColor(QPalette.Highlight, QColor("#2f65ca"))
    p.setColor(QPalette.HighlightedText, QColor("#ffffff"))
    p.setColor(QPalette.Link, QColor("#6aa6ff"))
    p.setColor(QPalette.Mid, QColor("#45484d"))
    p.setColor(QPalette.Dark, QColor("#1a1b1e"))
    p.setColor(QPalette.Light, QColor("#4a4d52"))
    for role in (QPalette.Text, QPalette.WindowText, QPalette.ButtonText):
        p.setColor(QPalette.Disabled, role, disabled)
    return p


def apply_theme(app: QApplication, theme: str = "system") -> bool:
    """Apply ``theme``; returns True when the result is dark."""
    app.setStyle("Fusion")
    dark = theme == "dark" or (theme == "system" and system_prefers_dark(app))
    app.setPalette(dark_palette() if dark else app.style().standardPalette())
    app.setProperty("audionet_dark", dark)
    _apply_plot_colors(dark)
    return dark


def is_dark(app: QApplication | None = None) -> bool:
    app = app or QApplication.instance()
    return bool(app and app.property("audionet_dark"))


def _apply_plot_colors(dark: bool) -> None:
    pg.setConfigOptions(antialias=True, background="#1e1f22" if dark else "w",
                        foreground="#dfe1e5" if dark else "#202124")


def plot_colors() -> tuple[str, str]:
    """(background, foreground) for pyqtgraph widgets made after the theme was applied."""
    return ("#1e1f22", "#dfe1e5") if is_dark() else ("#ffffff", "#202124")


def muted_text_style() -> str:
    return "color: #9aa0a6;" if is_dark() else "color: #5f6368;"


def error_text_style() -> str:
    return "color: #ff6b68;" if is_dark() else "color: #c5221f;"


def warning_text_style() -> str:
    return "color: #f2b134;" if is_dark() else "color: #a05a00;"
