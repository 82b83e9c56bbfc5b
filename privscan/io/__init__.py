"""I/O at the edges: decoding, discovery, metadata, atomic writes."""
