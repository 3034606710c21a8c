"""Qt widgets of the studio: one sub-package per tab. Views of core objects, never the other way."""
