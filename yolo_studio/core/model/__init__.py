"""The model document and everything read from it: YAML, graph, validation, the block catalog,
inspection (building a model to measure it), comparisons, checkpoints and weight transfer."""
