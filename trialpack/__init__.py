"""trialpack: the application — XPT v5 and Dataset-JSON I/O, raw readers, demo, pipeline, CLI."""
__version__ = "0.1.0"
