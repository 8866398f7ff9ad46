"""trialpack.process: the program's process plumbing, which nothing below the application needs.

* ``parallel`` runs independent stages of a build in forked worker processes;
* ``handover`` brings a mapping worker's result back through shared memory;
* ``collector`` keeps the program's long-lived objects out of the garbage collector's walks;
* ``atomic`` builds output beside its target and moves it into place whole;
* ``signals`` holds ``Terminated``, SIGTERM raised as an exception (the CLI raises it, the
  console reports it).

Part of the application (``trialpack``): may import any floor below it. This ``__init__`` imports
nothing, so that the CLI can take ``Terminated`` without loading the rest.
"""
