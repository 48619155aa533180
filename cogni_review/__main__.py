import sys

from cogni_review.cli import main

sys.exit(main())
