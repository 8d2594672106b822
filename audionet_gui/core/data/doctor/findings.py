"""A doctor finding: one problem, the files it is about, and what to do. The keys are a contract (CLI JSON)."""

from __future__ import annotations

from dataclasses import dataclass

# The kinds, in the order a report lists them (the files that cannot be used at all come first).
KINDS = ("unreadable", "silence", "too_short", "clipping", "cross_class_duplicate", "duplicate",
         "sample_rate_mismatch", "imbalance", "suspect_label")


@dataclass
class Finding:
    kind: str
    paths: list[str]
    message: str
    fix: str
    cls: str | None = None  # the class it is about ("class" in JSON); None when it spans classes
    score: float = 0.0       # how sure / how bad, for ranking inside a kind (suspect_label: the confidence)
    suggested_class: str | None = None  # suspect_label: the class the audio sounds like (the "move" fix)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown finding kind {self.kind!r}")

    def to_dict(self) -> dict:
        """Exactly the five keys of the contract; the ranking is the order of the list."""
        return {"kind": self.kind, "paths": list(self.paths), "class": self.cls, "message": self.message,
                "fix": self.fix}


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """By kind (KINDS order), then worst first, then by first path (stable output for scripts and tests)."""
    order = {k: i for i, k in enumerate(KINDS)}
    return sorted(findings, key=lambda f: (order[f.kind], -f.score, f.paths[0] if f.paths else "", f.cls or ""))
