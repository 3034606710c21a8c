"""The Module Designer tab: a code editor for custom blocks."""
