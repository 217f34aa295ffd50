"""The protocol's message types as TypedDicts, generated from ``protocol/schema/`` (whose source is the
Rust types of ``vitro-protocol``): :mod:`.protocol` for plugins, :mod:`.session` for session clients.
Regenerate with ``python sdk-python/tools/gen_messages.py``; a test fails when they drift."""
