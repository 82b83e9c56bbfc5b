"""privscan: a command-line photo privacy auditor.

Layers (data flows top to bottom, never back up): cli -> engine -> {models, detectors, masks} -> report,
train -> io. See README.md and the design notes for the whole picture.
"""

__version__ = "0.1.0"
