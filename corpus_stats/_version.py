"""The installed package's version (one owner, so that modules need not import the package door)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("corpus-stats")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"
