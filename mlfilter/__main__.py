import sys

from mlfilter.cli import main

sys.exit(main())
