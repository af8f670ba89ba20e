"""Helpers shared by the tests that kill a child process."""
import subprocess


def stop(proc: subprocess.Popen) -> None:
    """Make sure ``proc`` is gone and its pipes are closed (no leaked handles)."""
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()
