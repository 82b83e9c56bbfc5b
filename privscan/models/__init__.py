"""Pure nn.Modules and their losses. Models never read files: weights arrive as state dicts."""
