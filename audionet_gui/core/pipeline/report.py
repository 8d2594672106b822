"""What a training run reports: where the model went, its metrics, the time each stage took, warnings."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class TrainReport:
    bundle_path: Path
    workspace: Path
    labels: list[str]
    metrics: dict
    unknown_threshold: float
    wall_seconds: float
    timings: dict = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def summary_lines(self) -> list[str]:
        m = self.metrics
        test = m.get("test")
        lines = [f"model: {self.bundle_path}", f"classes: {', '.join(self.labels)}"]
        counts = m.get("data", {})
        lines.append("windows: " + ", ".join(f"{k} {counts.get(k + '_windows', 0)}" for k in ("train", "val", "test")))
        if test:
            lines.append(f"test accuracy: {test['accuracy']:.1%} of {test['windows']} windows, "
                         f"{test['recording_accuracy']:.1%} of {test['recordings']} recordings")
            if test.get("no_speech_rate"):
                lines.append(f"no speech heard in {test['no_speech_rate']:.1%} of the test recordings (counted wrong)")
        else:
            lines.append("test accuracy: no test data")
        if m.get("val"):
            lines.append(f"validation accuracy: {m['val']['accuracy']:.1%}")
        gate = counts.get("convert", {}).get("gate") if isinstance(counts.get("convert"), dict) else None
        if gate:
            lines.append(f"activity gate: {gate}")
        lines.append(f"unknown below p = {self.unknown_threshold:.3f}")
        if test and "false_unknown_rate" in test:
            lines.append(f"unknown on test: {test['false_unknown_rate']:.1%} of enrolled windows (clean and in noise) "
                         f"answered unknown, {test['false_accept_rate']:.1%} of noise/stranger windows named")
        robustness = m.get("robustness")
        if robustness and robustness.get("conditions"):
            lines.append("robustness: " + ", ".join(f"{name} {c['accuracy']:.0%}"
                                                    for name, c in robustness["conditions"].items()))
            if robustness.get("weakest"):
                lines.append(f"weakest: {robustness['weakest']}. {robustness.get('advice', '')}")
        lines.append(f"wall time: {self.wall_seconds:.1f} s")
        lines.extend(f"warning: {w}" for w in self.warnings)
        return lines
