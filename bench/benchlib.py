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
    # Built as it would be deployed: the Swift runtime linked in (`--static-swift-stdlib`). Calls into
    # it (swift_retain/release, exclusivity checks, thread-locals) then skip the PLT and the dynamic
    # TLS lookup; server CPU per request in scenarios (a) and (b) fell by ~10-13 % (README).
    log("building release binary")
    sh(["swift", "build", "-c", "release", "--static-swift-stdlib", "--product", "swift-serve-tui"], cwd=ROOT,
       stdout=subprocess.DEVNULL)
    return os.path.join(bin_path(), "swift-serve-tui")


def bin_path():
    return subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], cwd=ROOT, check=True,
                          capture_output=True, text=True).stdout.strip()


def build_floor():
    """bench/NIOFloor: NIO's event loops and HTTP decoder answering with prebuilt bytes (reference row)."""
    log("building the NIO floor reference")
    sh(["swift", "build", "-c", "release", "--static-swift-stdlib", "--product", "nio-floor"], cwd=ROOT,
       stdout=subprocess.DEVNULL)
    return os.path.join(bin_path(), "nio-floor")


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


def cpu_seconds(pid):
    """User plus system CPU time `pid` has used, all its threads (`/proc/PID/stat` fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid):
    """`cpu_seconds` of `pid` and its descendants (nginx's workers are children of its master)."""
    total = cpu_seconds(pid)
    for task in os.listdir(f"/proc/{pid}/task"):
        # A thread (python's, one per connection) may end meanwhile; its time stays in the process's.
        try:
            with open(f"/proc/{pid}/task/{task}/children") as f:
                children = f.read().split()
        except OSError:
            continue
        for child in children:
            try:
                total += tree_cpu_seconds(int(child))
            except OSError:
                pass
    return total


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


def make_site(base, big_mib, listing_files, cgi=False):
    """The served folder: 1k.bin, 256k.bin, big.bin of `big_mib` MiB, a folder `many/` of
    `listing_files` files with mixed names, and with `cgi` a script cgi-bin/hello.sh."""
    root = os.path.join(base, "www")
    os.makedirs(os.path.join(root, "many"))
    with open(os.path.join(root, "1k.bin"), "wb") as f:
        f.write(os.urandom(1024))
    with open(os.path.join(root, "256k.bin"), "wb") as f:
        f.write(os.urandom(256 * 1024))
    with open(os.path.join(root, "big.bin"), "wb") as f:
        chunk = os.urandom(1024 * 1024)
        for _ in range(big_mib):
            f.write(chunk)
    names = ["report", "Ünïcode", "日本語", "space name", "data", "IMG_", "notes-v2"]
    for i in range(listing_files):
        with open(os.path.join(root, "many", f"{names[i % len(names)]}-{i:05d}.txt"), "w") as f:
            f.write("x" * (i % 300))
    if cgi:
        os.makedirs(os.path.join(root, "cgi-bin"))
        script = os.path.join(root, "cgi-bin", "hello.sh")
        with open(script, "w") as f:
            f.write("#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\nhello %s\\n' \"$QUERY_STRING\"\n")
        os.chmod(script, 0o755)
    os.chmod(base, 0o755)
    return root


class TmuxServer(Server):
    """Ours in a detached 120×40 tmux pane (with the dashboard unless `headless`).

    A tmux pane is a session of its own, and Linux's autogroup scheduling then shares the CPU between
    it and wrk's session instead of thread by thread, which alone costs ~20 % on two cores: compare a
    dashboard with a headless server in tmux too. With `exit_file`, the pane stays after the server
    exits (its summary stays readable) and the exit status is written there.
    """

    def __init__(self, binary, root, threads, headless=False, extra=(), exit_file=None):
        port = free_port()
        self.socket = f"bench-{os.getpid()}-{port}"
        args = " ".join(f"'{a}'" for a in extra) + (" --no-tui 2>/dev/null" if headless else "")
        run = f"'{binary}' {port} -b 127.0.0.1 -d '{root}' --threads {threads} {args}"
        cmd = f"ulimit -n 65536 2>/dev/null; " + (f"{run}; echo \"exit=$?\" > '{exit_file}'; sleep 600" if exit_file
                                                   else f"exec {run}")
        env = dict(os.environ, TERM="xterm-256color", LANG=os.environ.get("LANG", "C.UTF-8"))
        sh(["tmux", "-L", self.socket, "new-session", "-d", "-x", "120", "-y", "40", cmd], env=env,
           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        PROCESSES.append(("tmux", self.socket))
        name = f"swift-serve-tui {'headless' if headless else '+ dashboard'} in tmux"
        wait_up(port, name)
        pane = int(self.tmux("list-panes", "-F", "#{pane_pid}").split()[0])
        # With exec the pane's process is the server; otherwise the server is the shell's child.
        found = subprocess.run(["pgrep", "-P", str(pane), "swift-serve-tui"], capture_output=True, text=True)
        pid = int(found.stdout.split()[0]) if exit_file else pane
        super().__init__(name, port, lambda: pid, self.kill)

    def kill(self):
        kill_tmux(self.socket)
        return ""

    def tmux(self, *args):
        return subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True).stdout

    def screen(self):
        return self.tmux("capture-pane", "-p")

    def keys(self, *keys):
        self.tmux("send-keys", *keys)


def kill_tmux(socket):
    """Stops a tmux server and removes its socket file, which tmux leaves behind in /tmp/tmux-UID."""
    subprocess.run(["tmux", "-L", socket, "kill-server"], stderr=subprocess.DEVNULL)
    try:
        os.unlink(os.path.join(os.environ.get("TMUX_TMPDIR", "/tmp"), f"tmux-{os.getuid()}", socket))
    except OSError:
        pass


def stop_all():
    """Whatever is still running from this run: every process started, every tmux server."""
    for kind, p in PROCESSES:
        if kind == "tmux":
            kill_tmux(p)
        elif p.poll() is None:
            # SIGTERM first: killing nginx's master outright leaves its workers running, orphaned.
            p.terminate()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
