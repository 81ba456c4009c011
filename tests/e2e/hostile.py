"""A crowd of hostile clients on one selectors loop (no thread per client),
shared by test_hostile_clients.py and bench/hostile_rss. Standard library only.

Four kinds, each doing what a broken or malicious peer does:
  silent     connects and never sends a byte;
  slowloris  sends most of a large frame at once, then one byte at a time;
  deaf       floods echo frames (large answers) and never reads them, so the
             hub's backpressure stops reading it;
  errors     floods junk lines and reads the answers until the hub closes it
             at max_errors_per_minute, then reconnects after a pause.

Each kind knows what the hub owes it (PROTOCOL.md) and records anything else
in HostileCrowd.anomalies."""

import errno
import os
import selectors
import socket
import time

JUNK_ANSWER = b'{"ok":false,"error":"invalid JSON at byte 0: a frame must be a JSON object"}'


def _connect(port, rcvbuf=None, sndbuf=None, timeout=5.0):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        if rcvbuf is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if sndbuf is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
        sock.settimeout(timeout)
        sock.connect(("127.0.0.1", port))
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class _Peer:
    kind = "?"

    def __init__(self, crowd, index):
        self.crowd, self.index = crowd, index
        self.sock = None
        self.events = 0
        self.due = None  # monotonic time of the next on_timer, or None

    def open(self, rcvbuf=None, sndbuf=None):
        self.sock = _connect(self.crowd.port, rcvbuf, sndbuf)
        self.crowd.connects += 1

    def register(self, events):
        if self.events == 0:
            self.crowd.sel.register(self.sock, events, self)
        elif events != self.events:
            self.crowd.sel.modify(self.sock, events, self)
        self.events = events

    def drop(self):
        if self.sock is not None:
            if self.events:
                self.crowd.sel.unregister(self.sock)
            self.sock.close()
        self.sock = None
        self.events = 0

    def anomaly(self, what):
        self.crowd.anomalies.append("%s #%d: %s" % (self.kind, self.index, what))

    def read_some(self):
        """Reads what is there; returns bytes, or None at EOF/reset."""
        try:
            data = self.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return b""
        except ConnectionResetError:
            return None
        return data or None

    def on_read(self):
        data = self.read_some()
        if data is None:
            self.anomaly("closed by the hub")
            self.drop()
        elif data:
            self.anomaly("unexpected bytes %r" % data[:100])

    def on_write(self):
        pass

    def on_timer(self):
        pass


class _Silent(_Peer):
    kind = "silent"

    def start(self):
        self.open()
        self.register(selectors.EVENT_READ)


class _Slowloris(_Peer):
    kind = "slowloris"

    def start(self):
        self.open()
        head = b'{"sensor":"slow-%d","hum":5,"pad":"' % self.index
        self.sock.sendall(head + b"s" * (self.crowd.slow_head_bytes - len(head)))
        self.register(selectors.EVENT_READ)
        # Spread the drips over the interval so they do not all fire together.
        self.due = time.monotonic() + self.crowd.drip_s * (self.index % 100) / 100

    def on_timer(self):
        try:
            self.sock.send(b"s")
            self.crowd.drips += 1
        except OSError as e:
            self.anomaly("send failed: %s" % e)
            self.drop()
            self.due = None
            return
        self.due = time.monotonic() + self.crowd.drip_s


class _Deaf(_Peer):
    kind = "deaf"

    def start(self):
        # A small receive buffer so unread answers back up into the hub at
        # once; a bounded send buffer so the kernel does not hold megabytes.
        self.open(rcvbuf=4096, sndbuf=65536)
        self.offset = 0
        self.blocked = False
        self.register(selectors.EVENT_WRITE)

    def on_write(self):
        # At most one block per event, so one peer cannot hog the loop.
        data = self.crowd.echo_block
        try:
            n = self.sock.send(data[self.offset:])
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            if e.errno not in (errno.EPIPE, errno.ECONNRESET):
                raise
            self.anomaly("closed by the hub while flooding: %s" % e)
            self.drop()
            return
        self.crowd.deaf_bytes += n
        self.offset = (self.offset + n) % len(data)


class _ErrorFlooder(_Peer):
    kind = "errors"

    def start(self):
        self.open()
        self.answers = 0
        self.partial = b""
        self.offset = 0
        self.register(selectors.EVENT_READ | selectors.EVENT_WRITE)

    def on_write(self):
        # One block per connection: far more errors than the limit allows,
        # without spinning while the hub reads and discards at full speed.
        data = self.crowd.junk_block
        try:
            self.offset += self.sock.send(data[self.offset:])
        except (BlockingIOError, InterruptedError):
            return
        except (BrokenPipeError, ConnectionResetError):
            self.offset = len(data)  # the hub closed hard; on_read reports the count
        if self.offset >= len(data):
            self.register(selectors.EVENT_READ)

    def on_read(self):
        data = self.read_some()
        if data:
            lines = (self.partial + data).split(b"\n")
            self.partial = lines.pop()
            for line in lines:
                if line != JUNK_ANSWER:
                    self.anomaly("unexpected answer %r" % line[:100])
            self.answers += len(lines)
            return
        if data is None:
            if self.answers != self.crowd.max_errors or self.partial:
                self.anomaly("closed after %d answers (+%r), expected exactly %d"
                             % (self.answers, self.partial[:50], self.crowd.max_errors))
            self.crowd.error_closes += 1
            self.drop()
            self.due = time.monotonic() + self.crowd.reconnect_s

    def on_timer(self):
        self.due = None
        try:
            self.start()
        except OSError as e:
            self.anomaly("cannot reconnect: %s" % e)


class HostileCrowd:
    """silent + slowloris + deaf + errors hostile connections to a hub on
    127.0.0.1:port. max_errors is the hub's max_errors_per_minute and
    frame_bytes stays within its max_frame_bytes."""

    def __init__(self, port, silent=250, slowloris=250, deaf=250, errors=250,
                 frame_bytes=4000, max_errors=100, drip_s=0.5, reconnect_s=1.0):
        self.port = port
        self.max_errors = max_errors
        self.drip_s = drip_s
        self.reconnect_s = reconnect_s
        self.slow_head_bytes = frame_bytes - 100
        echo = b'{"cmd":"echo","data":"' + b"e" * (frame_bytes - 25) + b'"}\n'
        self.echo_block = echo * max(1, 65536 // len(echo))
        self.junk_block = b"junk, not a frame\n" * 3640
        self.sel = selectors.DefaultSelector()
        self.anomalies = []
        self.connects = 0
        self.drips = 0
        self.deaf_bytes = 0
        self.error_closes = 0
        self.peers = ([_Silent(self, i) for i in range(silent)] +
                      [_Slowloris(self, i) for i in range(slowloris)] +
                      [_Deaf(self, i) for i in range(deaf)] +
                      [_ErrorFlooder(self, i) for i in range(errors)])

    def __len__(self):
        return len(self.peers)

    def connect_all(self):
        """Connects every peer (interleaving the kinds, so every kind is
        present early) and starts its behaviour."""
        order = sorted(self.peers, key=lambda p: (p.index, p.kind))
        for peer in order:
            peer.start()

    def run(self, seconds=None, until=None, tick_s=0.05):
        """Runs the loop for seconds, or until until() is true (checked every
        tick), whichever comes first."""
        deadline = None if seconds is None else time.monotonic() + seconds
        while True:
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                return
            if until is not None and until():
                return
            timeout = tick_s if deadline is None else max(0.0, min(tick_s, deadline - now))
            for key, mask in self.sel.select(timeout):
                peer = key.data
                if mask & selectors.EVENT_READ and peer.sock is not None:
                    peer.on_read()
                if mask & selectors.EVENT_WRITE and peer.sock is not None:
                    peer.on_write()
            now = time.monotonic()
            for peer in self.peers:
                if peer.due is not None and peer.due <= now:
                    peer.on_timer()

    def open_count(self):
        return sum(1 for p in self.peers if p.sock is not None)

    def close_all(self):
        for peer in self.peers:
            peer.due = None
            peer.drop()
        self.sel.close()

    def summary(self):
        return ("%d connections made, %d open; slowloris drips %d; deaf bytes sent %d; "
                "error flooders closed at the limit %d times; %d anomalies"
                % (self.connects, self.open_count(), self.drips, self.deaf_bytes,
                   self.error_closes, len(self.anomalies)))


# The hub's memory per connection, from the code (x86-64, glibc, libuv 1.x;
# sizes printed by a probe compiled against hub/client.h). struct client
# (uv_tcp_t, uv_timer_t, framer state, counters): ctest passes this
# platform's size, measured by CMake; 920 is x86-64's, for runs outside ctest.
CLIENT_STRUCT_BYTES = int(os.environ.get("SENSORHUB_CLIENT_STRUCT_BYTES") or 920)
ERROR_TIME_BYTES = 8       # per error of max_errors_per_minute, once the client made one
HELD_INPUT_BYTES = 65536    # HUB_READ_BYTES: the rest of one read, held under backpressure
ACK_SLOT_BYTES = 32         # struct ack_slot, max_unacked of them in a ring
# Each unacked frame holds at most one of: a store item (600 bytes) and its
# extra JSON (< max_frame_bytes); or its ack line (< max_frame_bytes + 64,
# an echo of the whole frame at worst) plus a share of a 200-byte write
# request. Rounded up for malloc's headers.
PER_UNACKED_OVERHEAD_BYTES = 640


def per_connection_bound(max_frame_bytes, max_unacked, max_errors_per_minute=100):
    """Worst-case bytes the hub holds for one connection: its struct, a full
    frame buffer, a held read, its error times, the ack ring and max_unacked
    frame-sized answers or readings (docs/LIMITS.md)."""
    return (CLIENT_STRUCT_BYTES + max_frame_bytes + HELD_INPUT_BYTES +
            ERROR_TIME_BYTES * max_errors_per_minute +
            max_unacked * (ACK_SLOT_BYTES + max_frame_bytes + PER_UNACKED_OVERHEAD_BYTES))
