import sys

from blueprints.standalone import main

sys.exit(main("triton"))
