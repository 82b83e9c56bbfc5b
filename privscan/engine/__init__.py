"""The engine wires models, detectors and masks into audits and redactions; it reads and writes through io
and report, and never parses command lines (that is the CLI's job)."""
