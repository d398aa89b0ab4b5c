"""What bench/run and bench/abuse share: the release build, ports, process bookkeeping, and starting ours."""
import http.client
import os
import resource
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROCESSES = []  # (kind, Popen or tmux socket name) to stop at exit


def log(message):
    print(message, file=sys.stderr, flush=True)


def sh(command, **kwargs):
    return subprocess.run(command, check=True, **kwargs)


def build():
    log("building release binary")
    sh(["swift", "build", "-c", "release", "--product", "swift-serve-tui"], cwd=ROOT,
       stdout=subprocess.DEVNULL)
    path = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout.strip()
    return os.path.join(path, "swift-serve-tui")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))


def wait_up(port, name, seconds=20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/1k.bin")
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not come up on port {port}")


def rss_kib(pid, descendants=True):
    """Resident memory of `pid` and, by default, its descendants (nginx's workers are children of its
    master). Not for ours with CGI: a child between posix_spawn and exec shares the parent's memory
    and reports all of it as its own."""
    total = 0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        if not descendants:
            return total
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                total += sum(rss_kib(int(child)) for child in f.read().split())
    except OSError:
        pass
    return total


class Server:
    def __init__(self, name, port, pid_fn, stop_fn):
        self.name, self.port, self.pid_fn, self.stop_fn = name, port, pid_fn, stop_fn

    @property
    def pid(self):
        return self.pid_fn()


def fd_count(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))


def start_ours(binary, root, threads, extra=(), log_path=None):
    """Ours, headless. With `log_path`, its access log (stderr, like python's) and summary (stdout) go to
    that file (a pipe would fill up and stall the log on a long run); `stop()` returns the summary or
    the whole log."""
    port = free_port()
    out = open(log_path, "w") if log_path else subprocess.PIPE
    p = subprocess.Popen([binary, str(port), "-b", "127.0.0.1", "-d", root, "--no-tui", "--threads", str(threads),
                          *extra], stdout=out, stderr=subprocess.STDOUT if log_path else subprocess.DEVNULL, text=True,
                         preexec_fn=raise_fd_limit)
    PROCESSES.append(("ours", p))
    wait_up(port, "swift-serve-tui")

    def stop():
        p.send_signal(signal.SIGINT)
        text, _ = p.communicate(timeout=30)
        if log_path:
            out.close()
            with open(log_path) as f:
                text = f.read()
        return text
    return Server("swift-serve-tui", port, lambda: p.pid, stop)


def stop_all():
    """Whatever is still running from this run: every process started, every tmux server."""
    for kind, p in PROCESSES:
        if kind == "tmux":
            subprocess.run(["tmux", "-L", p, "kill-server"], stderr=subprocess.DEVNULL)
        elif p.poll() is None:
            p.kill()
