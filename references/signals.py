"""Signals the references app sends; articles listens (references never imports articles)."""

from django.dispatch import Signal

# Sent after a refresh changes whether a reference can support a claim, or
# records a new retraction, correction or expression of concern.
# Keyword arguments: reference, was_support (bool), is_support (bool),
# newly_retracted (bool), changes (dict of field -> (old, new)).
reference_status_changed = Signal()
