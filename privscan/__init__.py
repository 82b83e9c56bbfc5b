"""privscan: a photo privacy auditor — command line and Python API.

    import privscan
    for record in privscan.audit("photos/", detectors="faces,text,metadata"):
        print(record.path, record.privacy_score)

Layers (data flows top to bottom, never back up): cli -> engine -> {models, detectors, masks} -> report,
train -> io. See README.md and the design notes for the whole picture. `import privscan` stays light: the
engine and its models load on the first `audit` / `redact` call.
"""

__version__ = "0.1.0"

from privscan.api import audit, read_records, redact
from privscan.report.schema import ImageRecord

__all__ = ["ImageRecord", "__version__", "audit", "read_records", "redact"]
