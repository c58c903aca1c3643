"""Start-up time of stampede's ad-hoc mode: from spawning the process to the
first request reaching the target.

A listener on a free loopback port (in this process) records the monotonic
time at which the first request's bytes arrive; the same process spawned
stampede and noted the monotonic time just before the spawn. Each repetition
runs `stampede run --url ... --vus 1 --iterations 1` and answers 200.

    python3 bench/startup.py STAMPEDE_BINARY [REPETITIONS] [OUTPUT.md]
"""

import os
import platform
import socket
import statistics
import subprocess
import sys
import time

RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


def one_run(binary: str) -> tuple[float, float, float]:
    """Returns (ms to accepted connection, ms to first request bytes, ms to exit)."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(10)
    port = listener.getsockname()[1]
    cmd = [binary, "run", "--quiet", "--no-color", "--url", f"http://127.0.0.1:{port}/",
           "--vus", "1", "--iterations", "1"]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        conn, _ = listener.accept()
        t_accept = time.monotonic()
        conn.settimeout(10)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
            if len(data) == len(chunk):
                t_first = time.monotonic()
        conn.sendall(RESPONSE)
        proc.wait(timeout=10)
        t_exit = time.monotonic()
        conn.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        listener.close()
    return ((t_accept - t0) * 1000, (t_first - t0) * 1000, (t_exit - t0) * 1000)


def main() -> None:
    binary = sys.argv[1]
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 10
    out = sys.argv[3] if len(sys.argv) > 3 else None
    runs = []
    for i in range(reps):
        r = one_run(binary)
        runs.append(r)
        print(f"run {i + 1}: connection {r[0]:.1f} ms, first request {r[1]:.1f} ms, exit {r[2]:.1f} ms")
    accept, first, done = (statistics.median(x[k] for x in runs) for k in range(3))
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout.strip()
    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    lines = [
        f"# Start-up: process spawn to first request, ad-hoc mode, {reps} repetitions", "",
        f"Machine: {os.cpu_count()} cores, {cpu}, Linux {platform.release()}", "",
        f"Version: {version}", "",
        "`stampede run --url http://127.0.0.1:PORT/ --vus 1 --iterations 1`, spawned by a Python "
        "listener that timestamps (monotonic clock) the spawn, the accepted connection, the first "
        "request bytes and the process exit.", "",
        "| measure | median ms | min ms | max ms |", "|---|---|---|---|",
    ]
    for name, k in (("spawn -> connection accepted", 0), ("spawn -> first request received", 1),
                    ("spawn -> process exited (1 request, summary printed)", 2)):
        vals = [x[k] for x in runs]
        lines.append(f"| {name} | {statistics.median(vals):.1f} | {min(vals):.1f} | {max(vals):.1f} |")
    lines += ["", "Target: first request within 100 ms.", "",
              f"Command: `bench/startup.sh {reps}`"]
    text = "\n".join(lines) + "\n"
    print(text)
    if out:
        with open(out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
