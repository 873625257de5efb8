"""Every stream's state, in one place and one form (state/protocol.py): an immutable value a parser builds from the
saved JSON (raising UnusableState, which names what was found), that advances by returning a new value, and that
says itself with as_dict(). A stream holds one and never edits it in place; its parsers (parsers/) stay pure.

events.py: the raw events, in both modes (and merged_ids); deletions.py: the user_deletions jobs; dashboard.py: the
dashboard streams' last day."""
