"""Linear item-item recommenders: EASE and SLIM."""

from recsys.linear._ease import EASE
from recsys.linear._slim import SLIM

__all__ = ["EASE", "SLIM"]
