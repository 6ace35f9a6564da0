"""A process that starts a one-node Galera cluster and waits, standing in for a test run that
a test can kill.

    python -m tests.support.galera_owner ROOT
"""

import asyncio
import sys
from pathlib import Path

from tests.support.galera import GaleraCluster


async def main(root: Path) -> None:
    cluster = GaleraCluster(root, size=1)
    await cluster.start()
    print("ready", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1])))
