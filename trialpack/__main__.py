from trialpack.cli import entry

entry()
