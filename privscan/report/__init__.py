"""Reports: the pydantic schema, the JSON-lines/JSON writers and the self-contained HTML report."""
