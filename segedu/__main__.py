"""Allow ``python -m segedu <command>``."""

from segedu.cli import main

raise SystemExit(main())
