"""A ``framewatch serve`` process on 127.0.0.1 for tests: started from a directory outside the repository."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import free_port

ADMIN_KEY = "live-admin-key"


class LiveServer:
    def __init__(self, checkpoint: Path, workdir: Path, *settings: str, env: dict[str, str] | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, FRAMEWATCH_ADMIN_KEYS=ADMIN_KEY, FRAMEWATCH_LOG_LEVEL="INFO", **(env or {}))
        env.pop("FRAMEWATCH_CONFIG", None)
        args = [sys.executable, "-m", "framewatch", "serve", "--checkpoint", str(checkpoint), "--port", str(self.port)]
        for setting in ("serving.torch_threads=2", *settings):
            args += ["--set", setting]
        self.log = (workdir / f"server-{self.port}.log").open("w+")
        self.process = subprocess.Popen(args, cwd=workdir, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.output()
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"server not ready within 120 s:\n{self.output()}")

    def output(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()
        return self.process.returncode
