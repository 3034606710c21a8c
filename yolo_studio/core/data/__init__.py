"""Datasets: reading YOLO labels, checking and importing datasets, and the demo dataset."""
