"""The redaction sidecar as a versioned model, and the run's one signature with a preloaded pipeline."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image
from pydantic import ValidationError

from privscan.engine.options import AuditOptions
from privscan.engine.pipeline import Pipeline
from privscan.engine.redaction import RedactOptions, record_json, redact
from privscan.errors import UsageError
from privscan.report.redaction import SCHEMA_VERSION, RedactionRecord


def test_sidecar_of_a_real_run_reads_back_and_other_majors_are_refused(tmp_path) -> None:
    src = tmp_path / "plain.png"
    Image.fromarray(np.full((40, 60, 3), 200, np.uint8)).save(src)
    run = redact([src], RedactOptions(hide=("a9_face_complete",), device="cpu"))
    assert run.failed == 0 and run.detectors == ("faces",)
    (sidecar,) = run.sidecars
    doc = json.loads(sidecar.read_text(encoding="utf-8"))
    assert doc["schema_version"] == SCHEMA_VERSION and doc["files"][0]["status"] == "clean-copy"
    record = RedactionRecord.model_validate(doc)
    assert record_json(record) == sidecar.read_text(encoding="utf-8")
    with pytest.raises(ValidationError, match="not readable by this privscan"):
        RedactionRecord.model_validate({**doc, "schema_version": "2.0"})


def test_a_preloaded_pipeline_must_hold_the_needed_detectors(tmp_path) -> None:
    src = tmp_path / "plain.png"
    Image.fromarray(np.full((40, 60, 3), 200, np.uint8)).save(src)
    metadata_only = Pipeline(AuditOptions(device="cpu", detectors=("metadata",), load_drag=False))
    with pytest.raises(UsageError, match="lacks the detector"):
        redact([src], RedactOptions(hide=("a9_face_complete",), device="cpu"), pipeline=metadata_only)
    assert not (tmp_path / "redacted").exists()
