"""Projects and the studio's own state: project folders and settings, recovery after a crash,
trusted block folders, and which documents are open."""
