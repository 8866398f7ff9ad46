"""trialpack: the application — demo, pipeline, validation, report, CLI (file formats: ``fileformats``)."""
__version__ = "0.1.0"
