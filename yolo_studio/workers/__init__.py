"""QtCore workers that run core work off the UI thread; their signals carry plain data."""
