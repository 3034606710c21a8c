"""Custom blocks: finding them in a project's block files, checking them in a child process,
and starting new ones from a template."""
