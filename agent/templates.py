"""Files ``iplat-agent init`` writes: a commented agent.toml and empty CSV templates.

The default sources are two CSV files next to agent.toml, for centers without a
booking system of their own; commented examples show the iCalendar and SQL
sources.
"""

from __future__ import annotations

import json

from agent.sources import fields
from proto import identity

EQUIPMENT_CSV_NAME = "equipment.csv"
CALENDAR_CSV_NAME = "calendar.csv"
# Header lines only: the files start empty and the safety valve judges the first sync.
# The byte-order mark makes Excel open the UTF-8 file with Korean intact; the reader
# tolerates it.
EQUIPMENT_CSV_TEMPLATE = "\ufeff" + ",".join(fields.EQUIPMENT_COLUMNS) + "\n"
CALENDAR_CSV_TEMPLATE = "\ufeff" + ",".join(fields.CALENDAR_COLUMNS) + "\n"

_CONFIG = """\
# iplatform-sync agent configuration. Relative paths are relative to this file.
# Every key is shown; commented keys show their defaults. Check it with:
#   iplat-agent check

center_id = {center_id}   # given by the hub operator; must match agent.crt
hub = {hub}               # HOST:PORT of the i-Platform hub
# timezone = "Asia/Seoul"   # zone of times written without an offset, and of operating hours
# state_path = "state.db"   # local state and outbox (keep it: it holds unsent changes)
# log_level = "info"        # debug, info, warning, error

[tls]
# key = "agent.key"         # private key, made by 'iplat-agent init' (mode 0600)
# cert = "agent.crt"        # certificate signed by the hub operator
# ca = "ca.pem"             # the hub's trust bundle
# server_name = "hub.example.kr"   # only if the hub's certificate names another host

[sync]
# poll_seconds = 60              # default interval between two reads of a source
# The hub's own [sync] settings, sent on connect, win over these two:
# heartbeat_seconds = 5
# reconcile_seconds = 600        # full comparison with the hub's copy
# max_delete_share = 0.5         # hold back a read that would delete more than this share
# batch_changes = 1000
# backoff_initial_seconds = 0.5
# backoff_max_seconds = 30.0

# Requests the hub routes to this center (one-stop service). Answer them with
# 'iplat-agent requests', or as the chosen inbox describes.
# [inbox]
# kind = "folder"           # "folder": JSON files; "sql": a table; "none": CLI only
# path = "inbox"            # folder: items/ and answers/ (default: next to state.db)
# url = "postgresql+psycopg://user:PASSWORD@db-host/booking"   # sql only
# table = "iplat_requests"  # sql only: created when missing
# poll_seconds = 2.0        # how often answers are picked up

# Equipment list: one row per piece of equipment. Columns: see the README
# (id,name_ko,name_en,category,status are required). Extra columns are ignored.
[[sources]]
name = "equipment"
type = "csv"
kind = "equipment"
path = "{equipment_csv}"
# encoding = "utf-8"        # "cp949" for files saved by Korean Excel
# delimiter = ","
# watch = true              # re-read as soon as the file changes
# poll_seconds = 60
# [sources.columns]         # when your headers differ: canonical name = your header
# name_ko = "장비명"
# status = "상태"

# Bookings, maintenance and closures: id,equipment_id,start,end,kind.
# Customer columns (booked_by, phone...) may stay in the file: they are never sent.
[[sources]]
name = "calendar"
type = "csv"
kind = "calendar"
path = "{calendar_csv}"

# A calendar exported as .ics files (one file per equipment, named by its id):
# [[sources]]
# name = "calendars"
# type = "ical"
# paths = "calendars/*.ics"            # a file, a directory or a glob; or a list of them
# equipment_id_from = "filename"       # or "property" (X-IPLAT-EQUIPMENT-ID on each event)
# equipment_property = "X-IPLAT-EQUIPMENT-ID"
# horizon_days = 180                   # how far ahead recurring events are expanded
# default_kind = "booked"

# The center's own booking database (read-only queries):
# [[sources]]
# name = "booking-db"
# type = "sql"
# url = "postgresql+psycopg://reader:PASSWORD@db-host/booking"
# equipment_query = '''
#   SELECT eq_no AS id, name AS name_ko, name_en, cat AS category, state AS status
#   FROM equipment'''
# calendar_query = '''
#   SELECT rsv_no AS id, eq_no AS equipment_id, begin_at AS start, end_at AS "end",
#          'booked' AS kind
#   FROM reservation WHERE end_at > now()'''
# poll_seconds = 300
"""


def default_config_text(center_id: str, hub: str) -> str:
    """A commented agent.toml for ``center_id`` talking to ``hub`` (HOST:PORT).

    Raises ValueError for an invalid center id.
    """
    identity.check_center_id(center_id)
    # JSON strings are valid TOML basic strings for everything a host name can hold.
    return _CONFIG.format(
        center_id=json.dumps(center_id),
        hub=json.dumps(hub),
        equipment_csv=EQUIPMENT_CSV_NAME,
        calendar_csv=CALENDAR_CSV_NAME,
    )


def default_files(center_id: str, hub: str) -> dict[str, str]:
    """File name -> text of everything ``init`` writes next to agent.toml (no keys)."""
    return {
        "agent.toml": default_config_text(center_id, hub),
        EQUIPMENT_CSV_NAME: EQUIPMENT_CSV_TEMPLATE,
        CALENDAR_CSV_NAME: CALENDAR_CSV_TEMPLATE,
    }
