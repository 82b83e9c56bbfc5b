"""Evidence from real pretrained parts that work out of the box: text (OCR + PII), faces and people,
nudity, metadata. Detectors never know about reports: they return Findings in VISPR vocabulary."""
