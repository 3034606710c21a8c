"""The Model Designer tab: a node-graph canvas of a model YAML."""
