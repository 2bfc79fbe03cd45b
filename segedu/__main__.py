"""Allow ``python -m segedu <command>``."""

from segedu.course.cli import main

raise SystemExit(main())
