"""Signals the references app sends; articles listens (references never imports articles)."""

from django.dispatch import Signal

# Sent after a refresh changes whether a reference can support a claim, or
# records a new retraction, correction or expression of concern.
# Keyword arguments: reference, was_support (bool), is_support (bool),
# newly_retracted (bool), changes (dict of field -> (old, new)).
reference_status_changed = Signal()

# Sent when a reference's fields that readers see (title, authors, journal, year, the editor's display
# corrections...) change, so articles can void approvals or send live pages to re-review.
# Keyword arguments: reference, changes (dict of field -> (old, new)).
reference_display_changed = Signal()
