import sys

from framewatch.cli import main

sys.exit(main())
