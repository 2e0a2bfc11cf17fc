"""The terminal interface (Textual). Entry point: :func:`descent_tui.tui.app.run_app`."""
