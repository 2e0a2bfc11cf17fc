"""The footer, with the way to every key first: ``? Help`` never falls off a narrow screen.

Textual's footer lists the focused widget's keys, then the screen's, then the
app's, and cuts what does not fit; on an 80-column mission screen that cut the
help key.  :class:`KeyFooter` shows the keys of :data:`FIRST` (help) before the rest;
the help screen (``?``) and the command palette (``ctrl+p``) list every key.

The palette's key comes second, in the row: Textual docks it on the right, and
on a screen whose keys overflow, the row scrolled under it and the two were
drawn over each other ("^ppa lette").

``KeyFooter(whole_keys=True)`` (every screen of the app) never cuts a key: a key that would run
past the right edge is left out, and a later, shorter one that fits still shows
(the screen's bindings are listed most useful first); a new width lays it out again.
"""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

__all__ = ["FIRST", "KeyFooter"]

#: actions whose key is shown first
FIRST = ("app.help", "help")


class KeyFooter(Footer):
    """A footer that puts the help key first and the command palette's second."""

    def __init__(self, *args: Any, whole_keys: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.whole_keys = whole_keys
        self._fitted_width = 0
        self._shown: tuple[Any, ...] | None = None  # the keys the footer was built from

    @staticmethod
    def _keys_of(screen: Any) -> tuple[Any, ...]:
        """What the footer shows of ``screen``'s bindings: each shown key, its label,
        action and description, whether it is enabled, and its tooltip."""
        return tuple((b.key, b.key_display, b.action, b.description, enabled, tooltip)
                     for _node, b, enabled, tooltip in screen.active_bindings.values()
                     if b.show)

    def bindings_changed(self, screen: Any) -> None:
        """Rebuild only when the keys shown change. Textual rebuilds the footer each time
        the focus moves, and most moves (tab through the Lab's controls, say) change no
        shown key: a rebuild restyles every key, about 60 ms a focus move at 160×50."""
        keys = self._keys_of(screen) if self.is_attached and screen is self.screen else None
        if keys is not None and keys == self._shown:
            return
        if keys is not None and self._shown is not None and screen.app.app_focus:
            self._shown = keys  # the rebuild is queued: a second change before it runs waits
        super().bindings_changed(screen)

    def compose(self) -> ComposeResult:
        if self.is_attached and self._bindings_ready:
            self._shown = self._keys_of(self.screen)
        widgets = list(super().compose())  # no binding groups here: the order is flat
        first = [w for w in widgets if isinstance(w, FooterKey) and w.action in FIRST]
        docked = [w for w in widgets if isinstance(w, FooterKey) and w.has_class("-command-palette")]
        palette = [FooterKey(w.key, w.key_display, w.description.capitalize(), w.action, disabled=w.disabled,
                             tooltip=w.tooltip).data_bind(compact=Footer.compact)
                   for w in docked]  # a key of the row, undocked
        rest = [w for w in widgets if w not in first and w not in docked]
        keys = first + palette + rest
        yield from self._whole(keys) if self.whole_keys else keys

    def on_resize(self) -> None:
        if self.whole_keys and self.size.width != self._fitted_width:
            self.call_after_refresh(self.recompose)

    def _whole(self, keys: list[Any]) -> list[Any]:
        """The keys that fit whole, in order (see the module docstring): a key is as wide
        as its key and description with the footer's padding (one cell each side of the
        key and after the description; compact: one between them and a margin)."""
        self._fitted_width = width = self.size.width or self.app.size.width
        pad = 2 if self.compact else 3
        kept, used = [], 0
        for key in keys:
            need = cell_len(key.key_display) + cell_len(key.description) + pad \
                if isinstance(key, FooterKey) else 0
            if used + need <= width:
                kept.append(key)
                used += need
        return kept
