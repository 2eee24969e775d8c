"""Entry point: `python -m gateway_devstack COMMAND`; the environment is read here, once."""

from __future__ import annotations

import logging
import os
import sys

from gateway_devstack import cmd_dev, cmd_migrate, cmd_stack
from gateway_devstack.cli import main

COMMANDS = (cmd_stack.COMMAND, cmd_dev.COMMAND, cmd_migrate.COMMAND)

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    # Readiness polls would log every request at INFO.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    sys.exit(main(sys.argv[1:], os.environ, COMMANDS))
