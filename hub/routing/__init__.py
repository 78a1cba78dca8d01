"""One-stop request routing (DESIGN.md section 7, issue #5).

A company asks once; the hub validates the request (:mod:`.validate`), lets the stage
guide (:mod:`.guide`) propose needs when only stages are named, plans candidate equipment
per need (:mod:`.planner`), stores the request and routes each need to the best candidate
in one transaction (:mod:`.requests`, on :mod:`hub.store.routing`), and delivers each
routed item over the holding center's Sync stream until the agent acknowledges it
(:mod:`.dispatch`). Declines, rejected proposals and items unanswered past their deadline
(:mod:`.deadlines`, business days in the center's time zone) go to the next candidate.

Modules: ``model`` (value types), ``errors``, ``guide`` (stage guide file), ``validate``
(field errors), ``brn`` (business registration numbers), ``deadlines``, ``planner``,
``requests`` (the blocking operations: CLI and server) with ``answers`` (a center's
answers), ``changes`` (proposal responses, cancel, reassign, sweep), ``transitions`` (item
state changes with their events and deliveries) and ``deliveries`` (the serialized
``pb.Delivery``), ``router`` (their async face for the server),
``dispatch`` (deliveries on the Sync stream), ``convert`` (model <-> protobuf); for the
surfaces: ``jsonbody`` (HTTP/CLI JSON -> draft, errors naming the field), ``render`` (JSON
answers), ``text`` (CLI text), ``pages`` (page tokens bound to their filters) and
``search_demand`` (searches that found nothing free, as demand signals).
"""
