"""Shared helpers of the end-to-end tests: a hub on an ephemeral loopback
port, raw socket clients, and database access (Python's sqlite3 and the
sqlite3 CLI). Standard library only.

Every wait here is a condition with a deadline; nothing sleeps in place of a
condition. Hubs and their temp dirs are cleaned up by Hub.close(), which the
tests register with addCleanup so it runs even when a test fails.
"""

import ctypes
import json
import os
import re
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time

HUB_BIN = os.environ.get("SENSORHUB_BIN", "")
SIM_BIN = os.environ.get("SENSOR_SIM_BIN", "")
SOURCE_DIR = os.environ.get("SENSORHUB_SOURCE_DIR", "")


def _built_with_asan(path):
    try:
        with open(path, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


# A hub built with -DSENSORHUB_SANITIZE=ON keeps freed memory in ASan's
# quarantine, so memory-bound checks run it with a small quarantine.
HUB_SANITIZED = _built_with_asan(HUB_BIN)
SMALL_QUARANTINE_ENV = (
    {"ASAN_OPTIONS": ":".join(filter(None, [os.environ.get("ASAN_OPTIONS", ""),
                                            "quarantine_size_mb=1"]))}
    if HUB_SANITIZED else None)

START_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 20.0
READ_TIMEOUT_S = 10.0

_LISTENING = {"127.0.0.1": re.compile(r"listening on tcp://127\.0\.0\.1:(\d+)"),
              "::1": re.compile(r"listening on tcp://\[::1\]:(\d+)")}


class HubError(AssertionError):
    """The hub did not do what a helper waited for (failing the test)."""


def die_with_parent():
    """preexec_fn: the child gets SIGKILL when the test process dies (e.g.
    killed by ctest's timeout), so no hub outlives its test."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def now_ms():
    return int(time.time() * 1000)


def write_config(path, config):
    """Writes a config dict (or the text of a file when config is a str)."""
    with open(path, "w", encoding="utf-8") as f:
        if isinstance(config, str):
            f.write(config)
        else:
            json.dump(config, f, indent=2)
            f.write("\n")


def run_hub_once(args, timeout=START_TIMEOUT_S, cwd=None):
    """Runs the hub expecting it to exit by itself (flag and startup errors,
    --help). Returns the CompletedProcess (text mode)."""
    return subprocess.run([HUB_BIN] + list(args), stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=timeout, cwd=cwd)


class Hub:
    """One sensorhub process on loopback (127.0.0.1, or ::1) with an ephemeral port and its own
    temp dir and database.

    config: dict written as JSON to the temp dir and passed with --config.
    db: path of the database (default: a new file in the temp dir).
    env: variables added to the hub's environment (e.g. TZ).
    """

    def __init__(self, config=None, db=None, tmpdir=None, log_level="debug", extra_args=(),
                 env=None, host="127.0.0.1"):
        self.own_tmpdir = tmpdir is None
        self.tmpdir = tmpdir or tempfile.mkdtemp(prefix="sensorhub-e2e-")
        self.db_path = db or os.path.join(self.tmpdir, "hub.db")
        self.config_path = None
        self.config = config
        self.log_level = log_level
        self.extra_args = list(extra_args)
        self.env = dict(os.environ, **env) if env else None
        self.host = host
        self.proc = None
        self.port = None
        self.lines = []
        self._cond = threading.Condition()
        self._reader = None
        self._stderr_done = False
        self.returncode = None

    # --- lifecycle -----------------------------------------------------

    def start(self, timeout=START_TIMEOUT_S):
        """Starts the hub and waits (with a deadline) for its listening line."""
        endpoint = "tcp://[%s]:0" % self.host if ":" in self.host else "tcp://%s:0" % self.host
        args = [HUB_BIN, "--listen", endpoint, "--db", self.db_path,
                "--log-level", self.log_level]
        if self.config is not None:
            self.config_path = os.path.join(self.tmpdir, "hub.json")
            write_config(self.config_path, self.config)
            args = [HUB_BIN, "--config", self.config_path] + args[1:]
        args += self.extra_args
        with self._cond:
            self.lines = []
            self._stderr_done = False
        self.port = None
        self.returncode = None
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, cwd=self.tmpdir, env=self.env,
                                     preexec_fn=die_with_parent)
        self._reader = threading.Thread(target=self._read_stderr, args=(self.proc,), daemon=True)
        self._reader.start()
        listening = _LISTENING[self.host]
        line = self.wait_for_log(listening, timeout)
        self.port = int(listening.search(line).group(1))
        return self

    def _read_stderr(self, proc):
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._cond:
                self.lines.append(line)
                self._cond.notify_all()
        with self._cond:
            self._stderr_done = True
            self._cond.notify_all()

    def wait_for_log(self, pattern, timeout=READ_TIMEOUT_S, start=0):
        """Returns the first stderr line (from index start) matching pattern
        (a regex string or compiled), waiting up to timeout seconds."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        with self._cond:
            seen = start
            while True:
                for line in self.lines[seen:]:
                    if rx.search(line):
                        return line
                seen = max(seen, len(self.lines))
                if self._stderr_done:
                    raise HubError("hub exited (status %s) before logging %r; log:\n%s"
                                   % (self.proc.poll(), rx.pattern, self.log_text()))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise HubError("no log line matching %r within %.1f s; log:\n%s"
                                   % (rx.pattern, timeout, self.log_text()))
                self._cond.wait(left)

    def wait_for_log_lines(self, pattern, n, timeout=READ_TIMEOUT_S, start=0):
        """Waits until n stderr lines (from index start) match pattern and
        returns them; the log arrives through a reader thread, so a line the
        hub wrote before some other event may not have been read yet."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [line for line in self.lines[start:] if rx.search(line)]
                if len(found) >= n or self._stderr_done:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    return found
                self._cond.wait(left)

    def log_count(self):
        with self._cond:
            return len(self.lines)

    def log_lines(self):
        """A copy of every stderr line so far."""
        with self._cond:
            return list(self.lines)

    def log_text(self):
        with self._cond:
            return "\n".join(self.lines[-200:])

    def log_lines_matching(self, pattern):
        """Every stderr line so far that matches pattern (regex string or compiled)."""
        rx = re.compile(pattern) if isinstance(pattern, str) else pattern
        with self._cond:
            return [line for line in self.lines if rx.search(line)]

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT_S):
        """Sends sig and returns the exit status (fails after timeout)."""
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise HubError("hub did not exit within %.1f s of signal %d; log:\n%s"
                           % (timeout, sig, self.log_text()))
        self._join_reader()
        return self.returncode

    def kill9(self):
        """SIGKILL, no drain; returns once the process is gone."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
        if self.proc is not None:
            self.returncode = self.proc.wait(10)
            self._join_reader()
        return self.returncode

    def _join_reader(self):
        if self._reader is not None:
            self._reader.join(5)
            self._reader = None
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def close(self):
        """Stops the process if it still runs (SIGTERM, so every test also
        checks a clean drain and, in sanitizer builds, a leak-free exit),
        kills it if that fails, and removes the temp dir. Raises when the
        hub did not exit 0 or its log shows a sanitizer report."""
        problem = None
        try:
            if self.alive():
                try:
                    status = self.stop(signal.SIGTERM, timeout=10)
                    if status != 0:
                        problem = "hub exited %s after SIGTERM at cleanup" % status
                except HubError as e:
                    problem = str(e)
                    self.kill9()
            elif self.proc is not None:
                self._join_reader()
            report = self.sanitizer_report()
            if report:
                problem = "sanitizer report in the hub's log:\n" + report
        finally:
            if self.own_tmpdir:
                shutil.rmtree(self.tmpdir, ignore_errors=True)
        if problem:
            raise HubError("%s\nlog:\n%s" % (problem, self.log_text()))

    def sanitizer_report(self):
        with self._cond:
            hits = [i for i, line in enumerate(self.lines)
                    if "Sanitizer" in line or "runtime error:" in line]
            return "\n".join(self.lines[hits[0]:hits[0] + 40]) if hits else ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    def rss_kb(self):
        """VmRSS of the hub process in kB (Linux /proc)."""
        with open("/proc/%d/status" % self.proc.pid, encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise HubError("no VmRSS in /proc/%d/status" % self.proc.pid)

    def hwm_kb(self):
        """VmHWM (peak resident set size) of the hub process in kB."""
        return proc_status_kb(self.proc.pid, "VmHWM")

    def rss_sampler(self, interval_s=0.005):
        """A started RssSampler on the hub (stop it with .stop())."""
        sampler = RssSampler(self.proc.pid, interval_s)
        sampler.start()
        return sampler

    # --- clients and database --------------------------------------------

    def client(self, timeout=READ_TIMEOUT_S, rcvbuf=None):
        return Client(self.port, timeout, rcvbuf, self.host)

    def db(self):
        return db_connect(self.db_path)

    def query(self, sql, params=()):
        return db_query(self.db_path, sql, params)

    def cli_json(self, sql):
        return sqlite_cli_json(self.db_path, sql)


def start_hub(testcase, config=None, **kw):
    """Starts a Hub and registers its cleanup on the TestCase."""
    hub = Hub(config=config, **kw)
    testcase.addCleanup(hub.close)
    try:
        hub.start()
    except BaseException:
        hub.close()
        raise
    return hub


class Client:
    """A raw TCP connection to the hub, reading ack lines with deadlines."""

    def __init__(self, port, timeout=READ_TIMEOUT_S, rcvbuf=None, host="127.0.0.1"):
        """rcvbuf: a small SO_RCVBUF set before connecting, so unread acks
        back up into the hub quickly."""
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            if rcvbuf is not None:
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            self.sock.settimeout(timeout)
            self.sock.connect((host, port))
        except BaseException:
            self.sock.close()
            raise
        self.buf = b""
        self.eof = False
        self.reset = False

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        self.sock.sendall(data)

    def send_frame(self, obj):
        self.send(json.dumps(obj, separators=(",", ":")) + "\n")

    def _fill(self, deadline):
        """Reads once more into buf; False at EOF (or reset)."""
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout("deadline passed")
        self.sock.settimeout(left)
        try:
            chunk = self.sock.recv(65536)
        except ConnectionResetError:
            self.eof = True
            self.reset = True
            return False
        if not chunk:
            self.eof = True
            return False
        self.buf += chunk
        return True

    def read_raw_line(self, timeout=READ_TIMEOUT_S):
        """One line (bytes without the newline), or None at EOF."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            if self.eof:
                return None
            try:
                if not self._fill(deadline):
                    return None
            except socket.timeout:
                raise HubError("no line from the hub within %.1f s (have %r)"
                               % (timeout, self.buf[:200]))
        line, self.buf = self.buf.split(b"\n", 1)
        return line

    def read_line(self, timeout=READ_TIMEOUT_S):
        """One ack line parsed as JSON; fails at EOF or timeout."""
        raw = self.read_raw_line(timeout)
        if raw is None:
            raise HubError("connection closed (reset=%s) while waiting for a line" % self.reset)
        return json.loads(raw.decode("utf-8"))

    def read_lines(self, n, timeout=READ_TIMEOUT_S):
        """n ack lines parsed as JSON, all within timeout."""
        deadline = time.monotonic() + timeout
        out = []
        for i in range(n):
            left = deadline - time.monotonic()
            raw = self.read_raw_line(max(left, 0.001))
            if raw is None:
                raise HubError("connection closed after %d of %d lines (reset=%s): %r"
                               % (i, n, self.reset, out[-3:]))
            out.append(json.loads(raw.decode("utf-8")))
        return out

    def read_until_eof(self, timeout=READ_TIMEOUT_S):
        """Every remaining line (parsed) until the hub closes; fails on timeout."""
        deadline = time.monotonic() + timeout
        out = []
        while True:
            left = deadline - time.monotonic()
            try:
                raw = self.read_raw_line(max(left, 0.001))
            except HubError:
                raise HubError("hub did not close the connection within %.1f s (lines %r)"
                               % (timeout, out[-3:]))
            if raw is None:
                if self.buf:
                    raise HubError("unterminated bytes before EOF: %r" % self.buf[:200])
                return out
            out.append(json.loads(raw.decode("utf-8")))

    def expect_silence(self, seconds):
        """Asserts that no byte and no EOF arrives within seconds (a bounded
        wait for the absence of an answer)."""
        deadline = time.monotonic() + seconds
        try:
            while time.monotonic() < deadline:
                if not self._fill(deadline):
                    raise HubError("connection closed, expected it to stay open")
        except socket.timeout:
            pass
        if self.buf:
            raise HubError("unexpected bytes from the hub: %r" % self.buf[:200])

    def shutdown_write(self):
        self.sock.shutdown(socket.SHUT_WR)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Sender(threading.Thread):
    """Sends data in chunks on a blocking socket, recording progress, so the
    test can see when backpressure has stopped it."""

    def __init__(self, sock, data, chunk=65536):
        super().__init__(daemon=True)
        self.sock, self.data, self.chunk = sock, data, chunk
        self.sent = 0
        self.error = None
        self.progress = threading.Condition()
        self.stopping = threading.Event()

    def run(self):
        try:
            while self.sent < len(self.data) and not self.stopping.is_set():
                try:
                    n = self.sock.send(self.data[self.sent:self.sent + self.chunk])
                except socket.timeout:
                    continue  # the socket's timeout is the reader's; keep trying
                with self.progress:
                    self.sent += n
                    self.progress.notify_all()
        except OSError as e:
            self.error = e
        with self.progress:
            self.progress.notify_all()

    def wait_stalled(self, quiet_s, timeout):
        """Waits until no byte has been sent for quiet_s seconds (the socket is
        blocked) and returns True; False when everything got sent first."""
        deadline = time.monotonic() + timeout
        with self.progress:
            while True:
                if not self.is_alive():
                    return False
                before = self.sent
                self.progress.wait(quiet_s)
                if self.sent == before and self.is_alive():
                    return True
                if time.monotonic() > deadline:
                    raise HubError("sender still making progress after %.1f s (%d of %d)"
                                           % (timeout, self.sent, len(self.data)))


def ack_batches(sock):
    """Yields the JSON lines the hub sends on sock, a list per recv(), until
    EOF; a socket error propagates to the caller."""
    buf = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return
        buf += chunk
        lines = buf.split(b"\n")
        buf = lines.pop()
        yield [json.loads(line) for line in lines]


class StreamingClient:
    """One connection that sends readings from a writer thread (a subclass's
    _write) while a reader thread hands each batch of acks to its on_acks,
    under cond; for the stop and crash tests. A subclass's ack_count() is the
    number of acks taken so far."""

    def __init__(self, port, name):
        self.name = name
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.settimeout(None)
        self.read_error = None
        self.cond = threading.Condition()
        self.stopping = threading.Event()
        self.writer = threading.Thread(target=self._write, daemon=True)
        self.reader = threading.Thread(target=self._read, daemon=True)

    def start(self):
        self.reader.start()
        self.writer.start()

    def _read(self):
        try:
            for acks in ack_batches(self.sock):
                with self.cond:
                    self.on_acks(acks)
                    self.cond.notify_all()
        except OSError as e:
            self.read_error = e  # reset by a kill, for one
        with self.cond:
            self.cond.notify_all()

    def wait_acks(self, n, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while self.ack_count() < n:
                left = deadline - time.monotonic()
                if left <= 0 or not self.reader.is_alive():
                    raise HubError("%s: %d acks, waited for %d" % (self.name, self.ack_count(), n))
                self.cond.wait(left)

    def finish(self, timeout=20):
        """Once the hub is gone or closing the connection: waits for both
        threads and closes the socket."""
        self.reader.join(timeout)
        self.stopping.set()
        with self.cond:
            self.cond.notify_all()
        if self.reader.is_alive():
            raise HubError("%s: connection not closed by the hub" % self.name)
        self.writer.join(timeout)
        if self.writer.is_alive():
            raise HubError("%s: writer still running" % self.name)
        self.sock.close()

    def close(self):
        self.stopping.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()


def proc_status_kb(pid, field):
    """A kB figure (VmRSS, VmHWM, ...) from /proc/PID/status."""
    with open("/proc/%d/status" % pid, encoding="ascii") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise HubError("no %s in /proc/%d/status" % (field, pid))


class RssSampler(threading.Thread):
    """Samples a process's VmRSS every interval_s until stopped, keeping the
    largest value, so a test can bound memory throughout an operation rather
    than only at its end."""

    def __init__(self, pid, interval_s=0.005):
        super().__init__(daemon=True)
        self.pid, self.interval_s = pid, interval_s
        self.max_kb = proc_status_kb(pid, "VmRSS")
        self.samples = 1
        self._stopping = threading.Event()

    def run(self):
        while not self._stopping.wait(self.interval_s):
            try:
                rss = proc_status_kb(self.pid, "VmRSS")
            except (OSError, HubError):
                return  # the process is gone; the test sees that elsewhere
            self.samples += 1
            self.max_kb = max(self.max_kb, rss)

    def stop(self):
        """Stops sampling and returns the largest VmRSS seen, in kB."""
        self._stopping.set()
        self.join(5)
        return self.max_kb


def raise_nofile_limit(needed):
    """Raises this process's RLIMIT_NOFILE soft limit to the hard limit; returns
    None, or the reason why needed descriptors cannot be had (for skipTest)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < needed:
        return "needs %d open files, hard RLIMIT_NOFILE is %d" % (needed, hard)
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return None


def frame(**fields):
    """A frame's bytes: compact JSON plus newline."""
    return (json.dumps(fields, separators=(",", ":")) + "\n").encode("utf-8")


def db_connect(path):
    """Read-only connection (the hub keeps writing; WAL lets us read)."""
    conn = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=10)
    conn.row_factory = sqlite3.Row
    return conn


def db_query(path, sql, params=()):
    conn = db_connect(path)
    try:
        return [dict(r) for r in conn.execute(sql, params).fetchall()]
    finally:
        conn.close()


def sqlite_cli(path, sql, mode="-json", timeout=30):
    """Runs the sqlite3 CLI on the database; returns stdout (fails on error)."""
    proc = subprocess.run(["sqlite3", mode, path, sql], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        raise HubError("sqlite3 %r failed (%d): %s" % (sql, proc.returncode, proc.stderr))
    return proc.stdout


def sqlite_cli_json(path, sql):
    out = sqlite_cli(path, sql, "-json").strip()
    return json.loads(out) if out else []


def integrity_check(path):
    """The sqlite3 CLI's PRAGMA integrity_check output (stripped)."""
    return sqlite_cli(path, "PRAGMA integrity_check;", "-list").strip()


def run_sim(port, *args, timeout=120):
    """Runs sensor-sim against the port with --json --quiet; returns
    (exit status, parsed report or None, stderr)."""
    cmd = [SIM_BIN, "--host", "127.0.0.1", "--port", str(port)] + [str(a) for a in args] + [
        "--json", "--quiet"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    report = None
    out = proc.stdout.strip()
    if out:
        report = json.loads(out)
    return proc.returncode, report, proc.stderr


def start_sim(testcase, port, *args):
    """Starts sensor-sim against the port in the background (output
    discarded) as load beside a test; returns its process, which the
    testcase's cleanup stops with stop_sim."""
    sim = subprocess.Popen(
        [SIM_BIN, "--host", "127.0.0.1", "--port", str(port)] + [str(a) for a in args] +
        ["--json", "--quiet"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        preexec_fn=die_with_parent)
    testcase.addCleanup(stop_sim, sim)
    return sim


def stop_sim(sim):
    """Kills a sensor-sim started by start_sim, if it still runs."""
    if sim.poll() is None:
        sim.kill()
    sim.wait(10)


def wait_until(cond, timeout, what):
    """Polls cond() until true or the deadline (for conditions that have no
    event to wait on, e.g. a file or a process state)."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise HubError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(delay)
        delay = min(delay * 2, 0.2)
