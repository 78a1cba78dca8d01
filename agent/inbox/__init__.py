"""Requests the hub routes to this center, and the center's answers (DESIGN.md section 7).

- :mod:`agent.inbox.config`: the ``[inbox]`` section of agent.toml.
- :mod:`agent.inbox.store`: the durable tables (inbox items, answer outbox) in the state file.
- :mod:`agent.inbox.answers`: what makes an answer sendable, and turning it into an ItemAnswer.
- :mod:`agent.inbox.render`: an item as center staff read it (JSON and text).
- :mod:`agent.inbox.sinks`, :mod:`agent.inbox.folder`, :mod:`agent.inbox.sql`: where items
  are written for staff, and where their answers are picked up.
- :mod:`agent.inbox.link`: what the sync session and the daemon call.

Deliberately empty of imports: :mod:`agent.config` imports :mod:`agent.inbox.config`, and the
other modules import :mod:`agent.config`.
"""
