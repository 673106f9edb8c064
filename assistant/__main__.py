"""`python -m assistant` runs the command line."""

from assistant.face.cli.main import main

raise SystemExit(main())
