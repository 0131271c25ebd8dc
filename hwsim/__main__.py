import sys

from hwsim.cli.main import main

sys.exit(main())
