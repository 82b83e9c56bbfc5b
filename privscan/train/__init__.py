"""Training: datasets, trainers and metrics for DRAG and PrivObfNet. Sits beside the engine, above models."""
