"""A process that starts an embedded server and waits, standing in for a daemon that a test
can kill. `--no-deathsig` starts it the way a server that missed PR_SET_PDEATHSIG would be.

    python -m tests.support.embedded_owner STATE_DIR [--no-deathsig]
"""

import asyncio
import sys
from pathlib import Path

from mycrmd.system import embedded_db


async def main(state_dir: Path) -> None:
    server = embedded_db.EmbeddedServer(state_dir, buffer_pool_size="64M")
    await server.start()
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    if "--no-deathsig" in sys.argv:
        embedded_db._die_with_parent = lambda: None
    asyncio.run(main(Path(sys.argv[1])))
