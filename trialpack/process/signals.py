"""Signals as the program sees them: SIGTERM raised as :class:`Terminated`.

:mod:`trialpack.cli` raises it from its signal handler and :mod:`trialpack.console` names it
when it reports what stopped a command; it lives here, below both, so that neither imports
the other for it.
"""


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that clean-up (``finally``) runs as for Ctrl-C:
    the scratch folder of an interrupted build is removed and the target is left as it was."""
