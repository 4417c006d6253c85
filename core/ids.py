"""Identifiers handed to clients (task_id, page_id, export_id): random UUID strings, unguessable, so an id
seen in one place reveals no other."""

import uuid


def new_uuid() -> str:
    return str(uuid.uuid4())
