"""Independent validators for issued copies: EU DSS 6.4 (PAdES) and veraPDF 1.30.2 (PDF/A-2b).

Thin wrapper over `scripts/validators`, which builds two Java runners from Maven Central into a
cache (`validators/`) and prints one JSON object per run. Needs `java` and `mvn` on PATH: check
`available()` and skip otherwise. The first `build()` on a machine downloads the dependencies into
~/.m2 and can take a few minutes; later ones find the cache and take milliseconds.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "validators"
BUILD_TIMEOUT = 1200.0
RUN_TIMEOUT = 300.0

_built: Path | None = None


@dataclasses.dataclass(frozen=True)
class DssTimestamp:
    id: str
    type: str | None  # SIGNATURE_TIMESTAMP, DOCUMENT_TIMESTAMP, ARCHIVE_TIMESTAMP, ...
    field: str | None  # the signature field of a PAdES document timestamp
    indication: str | None  # PASSED, INDETERMINATE, FAILED
    sub_indication: str | None
    production_time: str | None
    errors: list[str]
    warnings: list[str]
    infos: list[str]
    qualification_errors: list[str]
    qualification_warnings: list[str]


@dataclasses.dataclass(frozen=True)
class DssSignature:
    id: str
    field: str | None
    indication: str | None  # TOTAL_PASSED, INDETERMINATE, TOTAL_FAILED
    sub_indication: str | None
    format: str | None  # e.g. PAdES-BASELINE-LTA
    signing_time: str | None
    signed_by: str | None
    errors: list[str]
    warnings: list[str]
    infos: list[str]
    qualification_errors: list[str]
    qualification_warnings: list[str]
    timestamps: list[DssTimestamp]


@dataclasses.dataclass(frozen=True)
class DssResult:
    signatures: list[DssSignature]
    document_timestamps: list[DssTimestamp]
    raw: dict[str, Any]

    def signature(self, field: str) -> DssSignature:
        """The signature in field `field` (KeyError when there is none)."""
        for sig in self.signatures:
            if sig.field == field:
                return sig
        raise KeyError(f"no signature in field {field!r}: {[s.field for s in self.signatures]}")


@dataclasses.dataclass(frozen=True)
class VeraRule:
    clause: str
    test: int
    description: str | None
    count: int


@dataclasses.dataclass(frozen=True)
class VeraResult:
    compliant: bool
    flavour: str
    failed_rules: list[VeraRule]
    raw: dict[str, Any]


def available() -> bool:
    """Whether the validators can be built and run here (java and mvn on PATH)."""
    return shutil.which("java") is not None and shutil.which("mvn") is not None


def build() -> Path:
    """Build the runners unless cached; return the cache directory (once per process)."""
    global _built
    if _built is None:
        out = _run([str(SCRIPT), "path"], BUILD_TIMEOUT, "build")
        lines = out.strip().splitlines()
        if not lines:
            raise RuntimeError("scripts/validators path printed nothing")
        _built = Path(lines[-1])
    return _built


def dss(pdf: Path, root_pem: Path, report_out: Path) -> DssResult:
    """Validate `pdf` offline with EU DSS, trusting only `root_pem`.

    Writes the ETSI TS 119 102-2 validation report to `report_out`.
    """
    build()
    out = _run([str(SCRIPT), "dss", str(pdf), str(root_pem), str(report_out)], RUN_TIMEOUT, "dss")
    raw = _json(out, "dss")
    return DssResult(
        signatures=[_signature(s) for s in raw.get("signatures", [])],
        document_timestamps=[_timestamp(t) for t in raw.get("document_timestamps", [])],
        raw=raw,
    )


def verapdf(pdf: Path) -> VeraResult:
    """Validate `pdf` against PDF/A-2b with veraPDF's greenfield parser."""
    build()
    raw = _json(_run([str(SCRIPT), "verapdf", str(pdf)], RUN_TIMEOUT, "verapdf"), "verapdf")
    return VeraResult(
        compliant=bool(raw["compliant"]),
        flavour=str(raw["flavour"]),
        failed_rules=[
            VeraRule(
                clause=str(r["clause"]),
                test=int(r["test"]),
                description=_opt_str(r.get("description")),
                count=int(r["count"]),
            )
            for r in raw.get("failed_rules", [])
        ],
        raw=raw,
    )


def _run(argv: list[str], timeout: float, what: str) -> str:
    try:
        proc = subprocess.run(
            argv,
            cwd=REPO,
            env=os.environ.copy(),
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise RuntimeError(
            f"validators {what} timed out after {timeout:.0f} s: {_tail(exc.stderr)}"
        ) from exc
    except OSError as exc:
        raise RuntimeError(f"validators {what} could not start: {exc}") from exc
    if proc.returncode != 0:
        raise RuntimeError(f"validators {what} exited {proc.returncode}: {_tail(proc.stderr)}")
    return proc.stdout


def _tail(stderr: str | bytes | None, lines: int = 20) -> str:
    if stderr is None:
        return "(no stderr)"
    text = stderr.decode("utf-8", "replace") if isinstance(stderr, bytes) else stderr
    return "\n".join(text.strip().splitlines()[-lines:]) or "(no stderr)"


def _json(stdout: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(stdout)
    except json.JSONDecodeError as exc:
        raise RuntimeError(f"validators {what} printed no JSON: {stdout[-2000:]!r}") from exc
    if isinstance(value, dict):
        return value
    raise RuntimeError(f"validators {what} printed {type(value).__name__}, not an object")


def _opt_str(value: object) -> str | None:
    return None if value is None else str(value)


def _strs(value: object) -> list[str]:
    return [str(v) for v in value] if isinstance(value, list) else []


def _timestamp(raw: dict[str, Any]) -> DssTimestamp:
    return DssTimestamp(
        id=str(raw["id"]),
        type=_opt_str(raw.get("type")),
        field=_opt_str(raw.get("field")),
        indication=_opt_str(raw.get("indication")),
        sub_indication=_opt_str(raw.get("sub_indication")),
        production_time=_opt_str(raw.get("production_time")),
        errors=_strs(raw.get("errors")),
        warnings=_strs(raw.get("warnings")),
        infos=_strs(raw.get("infos")),
        qualification_errors=_strs(raw.get("qualification_errors")),
        qualification_warnings=_strs(raw.get("qualification_warnings")),
    )


def _signature(raw: dict[str, Any]) -> DssSignature:
    return DssSignature(
        id=str(raw["id"]),
        field=_opt_str(raw.get("field")),
        indication=_opt_str(raw.get("indication")),
        sub_indication=_opt_str(raw.get("sub_indication")),
        format=_opt_str(raw.get("format")),
        signing_time=_opt_str(raw.get("signing_time")),
        signed_by=_opt_str(raw.get("signed_by")),
        errors=_strs(raw.get("errors")),
        warnings=_strs(raw.get("warnings")),
        infos=_strs(raw.get("infos")),
        qualification_errors=_strs(raw.get("qualification_errors")),
        qualification_warnings=_strs(raw.get("qualification_warnings")),
        timestamps=[_timestamp(t) for t in raw.get("timestamps", [])],
    )
