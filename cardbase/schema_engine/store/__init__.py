"""The one record store every channel reads and writes through."""
from .records import RecordStore, WriteHooks
from .serialize import record_to_json

__all__ = ["RecordStore", "WriteHooks", "record_to_json"]
