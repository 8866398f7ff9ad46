from trialpack.cli import main

raise SystemExit(main())
