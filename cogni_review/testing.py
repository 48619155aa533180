"""Examples as tests: a gate's examples run through the engine, exactly as a repository would be.

`judge(plugin, example)` audits a one-file snapshot in memory with the gate configured by its
examples' options, so each example exercises the gate's file selection, its `candidates`
prefilter, its `scan`, the suppression and comment handling, and the result the engine builds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cogni_review import engine
from cogni_review.catalog import ResolvedGate
from cogni_review.gate import Example, Plugin
from cogni_review.model import Report, Violation


@dataclass
class Files:
    """A snapshot held in memory: path -> bytes."""

    files: dict[str, bytes]
    label: str = "example"
    skipped: dict[str, str] = field(default_factory=dict)

    def paths(self) -> list[str]:
        return sorted(self.files)

    def read(self, path: str) -> bytes | None:
        return self.files.get(path)

    def blob_id(self, path: str) -> str | None:
        return None


def gate_of(plugin: Plugin, options: dict | None = None) -> ResolvedGate:
    """The gate as a spec listing it with `options` (default: its examples' options) would run it."""
    chosen = dict(plugin.examples.options) if options is None else options
    return ResolvedGate(plugin.type, plugin.type, plugin, plugin.options.model_validate(chosen))


def judge(plugin: Plugin, example: Example, options: dict | None = None) -> Report:
    """An audit of the example's file, alone in a repository, by this gate alone."""
    snapshot = Files({example.path: example.code.encode()})
    return engine.run([gate_of(plugin, options)], engine.Sides.of_snapshot(snapshot))


def findings(report: Report) -> list[Violation]:
    return [v for gate in report.gates if gate.type != engine.SUPPRESSIONS for v in gate.violations]
