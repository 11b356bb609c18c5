"""The embedded demo and a developer's laptop: DEBUG on unless told otherwise."""

import os

os.environ.setdefault("DEBUG", "true")

from .base import *  # noqa: F403
