"""Hostile peers (PROTOCOL.md "Limits"): slowloris, crowds of silent
connections, clients that never read their acks, error floods at the default
limit, half-closes under backpressure, resets mid-frame, and 1 000 of them at
once while a well-behaved sensor-sim runs. The hub must stay up, keep its
memory bounded (docs/LIMITS.md) and keep serving the well-behaved.
test_limits.py covers each limit on its own with one client; these are the
harsher variants."""

import json
import selectors
import socket
import struct
import subprocess
import threading
import time
import unittest

import hostile
import hubtest
from hubtest import frame

PING = b'{"cmd":"ping"}\n'
PONG = {"ok": True, "cmd": "ping"}
KB = 1024
MB = 1024 * KB

# Growth of the hub's peak RSS (VmHWM) over its start with 1 000 hostile
# clients and a sensor-sim (CrowdTest). Measured on a RelWithDebInfo build:
# 15-17 MB; the bound leaves 2x headroom and stays far below the computed
# worst case for that config, 1 000 x per_connection_bound(4096, 8) = 104 MiB.
CROWD_RSS_GROWTH_BOUND_KB = 40 * KB
# Under ASan every allocation carries redzones and shadow memory, and the
# quarantine (1 MB with SMALL_QUARANTINE_ENV) delays reuse: the crowd measured
# 25 MB (1.6x), a deaf client 1.4 MB (1.3x); the bounds are scaled by 3.
ASAN_RSS_FACTOR = 3


def rss_bound_kb(kb):
    return kb * ASAN_RSS_FACTOR if hubtest.HUB_SANITIZED else kb


def eof_or_reset(sock):
    """True when the peer has closed (EOF or reset) and sent nothing more;
    False while the connection is open (answers are left unread: MSG_PEEK)."""
    try:
        data = sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except (BlockingIOError, InterruptedError):
        return False
    except ConnectionResetError:
        return True
    return not data


class SlowlorisTest(unittest.TestCase):
    def test_a_byte_every_300ms_works_and_every_2s_is_closed(self):
        hub = hubtest.start_hub(self, config={"idle_timeout_s": 1}, log_level="info")
        slow_frame = b'{"sensor":"L","hum":5}\n'
        drip = hub.client()
        self.addCleanup(drip.close)
        drip.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sparse = hub.client()
        self.addCleanup(sparse.close)
        sparse_result = {}

        def sparse_sender():
            # One byte, then 2 s of waiting: the hub closes it ~1 s in.
            t_byte = time.monotonic()
            sparse.send(b"{")
            sparse_result["lines"] = sparse.read_until_eof(timeout=2.0)
            sparse_result["after_s"] = time.monotonic() - t_byte
        sparse_thread = threading.Thread(target=sparse_sender, daemon=True)
        sparse_thread.start()

        t0 = time.monotonic()
        drip.sock.setblocking(False)
        for i in range(len(slow_frame)):
            drip.sock.send(slow_frame[i:i + 1])
            self.assertFalse(eof_or_reset(drip.sock), "closed while bytes flowed, byte %d" % i)
            time.sleep(0.3)  # the pacing under test, not a wait for a condition
        drip.sock.setblocking(True)
        self.assertEqual(drip.read_line(timeout=2), {"ok": True})
        self.assertGreater(time.monotonic() - t0, 6.0, "the frame took longer than the timeout")
        # Once the bytes stop, the idle timeout applies again.
        self.assertEqual(drip.read_until_eof(timeout=3), [])

        sparse_thread.join(5)
        self.assertIn("after_s", sparse_result, "the 2 s client was not closed within 2 s")
        self.assertGreaterEqual(sparse_result["after_s"], 0.9)
        self.assertLessEqual(len(sparse_result["lines"]), 1, sparse_result["lines"])
        for ack in sparse_result["lines"]:
            self.assertIs(ack["ok"], False)
        self.assertEqual(hub.query("SELECT s.name, r.hum_pct FROM readings r JOIN sensors s "
                                   "ON s.id = r.sensor_id"), [{"name": "L", "hum_pct": 5.0}])


class SilentCrowdTest(unittest.TestCase):
    N = 200

    def test_silent_connections_all_closed_at_idle_timeout(self):
        hub = hubtest.start_hub(self, config={"idle_timeout_s": 1}, log_level="info")
        sel = selectors.DefaultSelector()
        self.addCleanup(sel.close)
        t0 = time.monotonic()
        for _ in range(self.N):
            sock = socket.create_connection(("127.0.0.1", hub.port), timeout=5)
            sock.setblocking(False)
            self.addCleanup(sock.close)
            sel.register(sock, selectors.EVENT_READ)
        closed_at = []
        with hub.client() as talker:
            next_ping = t0
            while len(closed_at) < self.N and time.monotonic() - t0 < 5:
                if time.monotonic() >= next_ping:  # keeps the talker alive meanwhile
                    talker.send(PING)
                    self.assertEqual(talker.read_line(timeout=1), PONG)
                    next_ping += 0.3
                for key, _ in sel.select(0.05):
                    if eof_or_reset(key.fileobj):
                        sel.unregister(key.fileobj)
                        closed_at.append(time.monotonic() - t0)
            self.assertEqual(len(closed_at), self.N, "silent connections left open after 5 s")
            self.assertGreaterEqual(min(closed_at), 0.9, "closed before idle_timeout_s")
            talker.send(PING)
            self.assertEqual(talker.read_line(timeout=1), PONG)


class DeafClientTest(unittest.TestCase):
    N = 20
    ECHO = b'{"cmd":"echo","data":"' + b"d" * 4000 + b'"}\n'

    def test_clients_that_never_read_are_bounded_then_closed(self):
        # Defaults except write_timeout_s: max_unacked 256, max_frame_bytes 4096.
        hub = hubtest.start_hub(self, config={"write_timeout_s": 2}, log_level="info",
                                env=hubtest.SMALL_QUARANTINE_ENV)
        start_kb = hub.rss_kb()
        mark = hub.log_count()
        data = self.ECHO * 5000  # 20 MB of echoes, 20 MB of answers never read
        senders = []
        for _ in range(self.N):
            c = hub.client(timeout=30, rcvbuf=4096)
            self.addCleanup(c.close)
            sender = hubtest.Sender(c.sock, data)
            self.addCleanup(sender.stopping.set)
            sender.start()
            senders.append(sender)
        # The hub still answers others at once.
        with hub.client() as other:
            t0 = time.monotonic()
            other.send(frame(sensor="other", temp=20, seq=1))
            self.assertEqual(other.read_line(timeout=1), {"ok": True, "seq": 1})
            self.assertLess(time.monotonic() - t0, 1.0)
        # write_timeout_s closes each of them: its sender fails.
        for sender in senders:
            sender.join(15)
            self.assertFalse(sender.is_alive(), "a deaf client is still open")
            self.assertIsInstance(sender.error, (ConnectionResetError, BrokenPipeError))
            self.assertLess(sender.sent, len(data), "the hub read everything")
        timeouts = hub.wait_for_log_lines(r"\(write_timeout_s\), closing", self.N, start=mark)
        self.assertEqual(len(timeouts), self.N, "\n".join(timeouts))
        peak_kb = hub.hwm_kb()
        per_client = (peak_kb - start_kb) * KB // self.N
        bound = hostile.per_connection_bound(4096, 256)
        print("\n%d deaf clients: hub RSS %d kB at start, peak %d kB: %d bytes per client "
              "(bound %d)" % (self.N, start_kb, peak_kb, per_client, bound))
        self.assertLess(per_client, rss_bound_kb(bound))
        with hub.client() as other:
            other.send(PING)
            self.assertEqual(other.read_line(), PONG)


class DeafClientBufferTest(unittest.TestCase):
    ECHO = b'{"cmd":"echo","data":"' + b"d" * 4000 + b'"}\n'

    def test_a_deaf_client_is_stopped_after_little_input(self):
        # The hub caps each connection's kernel send buffer, so a client that
        # never reads is stopped after max_unacked answers plus tens of kB,
        # not after the megabytes Linux's send-buffer autotuning would queue
        # (which cost hub work that delayed every other client by seconds).
        hub = hubtest.start_hub(self, config={"max_unacked": 8, "write_timeout_s": 5},
                                log_level="info")
        c = hub.client(timeout=30, rcvbuf=4096)
        self.addCleanup(c.close)
        # Keep the client's own send buffer small so what it counts as sent
        # is what the hub's side took.
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
        sender = hubtest.Sender(c.sock, self.ECHO * 5000)
        self.addCleanup(sender.stopping.set)
        sender.start()
        self.assertTrue(sender.wait_stalled(quiet_s=1.0, timeout=20), "the hub read everything")
        print("\na deaf client got %d bytes in before the hub stopped reading" % sender.sent)
        self.assertLess(sender.sent, 1536 * KB)


class ErrorFloodTest(unittest.TestCase):
    MAX_ERRORS = 100  # the default max_errors_per_minute

    def flood(self, sensor):
        """10 000 frames: errors of every kind with a valid reading every 7th.
        Returns (bytes, the answers owed: up to and including the 100th
        error, the number of readings among them)."""
        bad = [(b"junk\n", {"ok": False,
                            "error": "invalid JSON at byte 0: a frame must be a JSON object"}),
               (b'{"sensor":"%s","hum":140,"seq":7}\n' % sensor.encode(),
                {"ok": False, "seq": 7, "error": "hum: 140 is out of range [0, 100]"}),
               (b'{"cmd":"nope"}\n', {"ok": False, "cmd": "nope", "error": "unknown command"}),
               (b'{"sensor":"%s","temp":1,"temp":2}\n' % sensor.encode(),
                {"ok": False, "error": "temp: duplicate member"})]
        parts, owed, errors, readings = [], [], 0, 0
        for i in range(10000):
            if i % 7 == 6:
                data, answer = frame(sensor=sensor, temp=20, seq=i), {"ok": True, "seq": i}
            else:
                data, answer = bad[i % len(bad)]
            parts.append(data)
            if errors < self.MAX_ERRORS:
                owed.append(answer)
                errors += answer["ok"] is False
                readings += answer["ok"] is True
        return b"".join(parts), owed, readings

    def test_floods_closed_at_the_limit_others_unaffected(self):
        hub = hubtest.start_hub(self, log_level="info")
        with hub.client() as good:
            for n in range(10):
                sensor = "flood-%d" % n
                data, owed, readings = self.flood(sensor)
                with hub.client() as c:
                    try:
                        c.send(data)
                    except (BrokenPipeError, ConnectionResetError):
                        pass  # closed after its 100th error: the rest is not answered
                    t0 = time.monotonic()
                    good.send(frame(sensor="good", temp=20, seq=n))
                    self.assertEqual(good.read_line(timeout=1), {"ok": True, "seq": n})
                    self.assertLess(time.monotonic() - t0, 1.0)
                    self.assertEqual(c.read_until_eof(), owed)
                stored = hub.query("SELECT count(*) AS n FROM readings r JOIN sensors s ON "
                                   "s.id = r.sensor_id WHERE s.name = ?", (sensor,))[0]["n"]
                self.assertEqual(stored, readings, "readings stored from %s" % sensor)
        self.assertEqual(hub.query("SELECT count(*) AS n FROM readings r JOIN sensors s ON "
                                   "s.id = r.sensor_id WHERE s.name = 'good'"), [{"n": 10}])


class HalfCloseTest(unittest.TestCase):
    ECHO_DATA = "h" * 4000

    def test_half_close_while_the_hub_holds_input(self):
        hub = hubtest.start_hub(self, config={"max_unacked": 4}, log_level="info")
        n = 10000
        parts, want = [], []
        for i in range(n):
            if i % 2:
                parts.append(frame(cmd="echo", data=self.ECHO_DATA))
                want.append({"ok": True, "cmd": "echo", "data": self.ECHO_DATA})
            else:
                parts.append(frame(sensor="half", temp=20, seq=i))
                want.append({"ok": True, "seq": i})
        c = hub.client(timeout=60, rcvbuf=4096)
        self.addCleanup(c.close)

        class HalfClosingSender(hubtest.Sender):
            def run(self):
                super().run()
                if self.error is None and not self.stopping.is_set():
                    self.sock.shutdown(socket.SHUT_WR)  # the hub has not read it all yet
        sender = HalfClosingSender(c.sock, b"".join(parts))
        self.addCleanup(sender.stopping.set)
        sender.start()
        # The hub stops reading (20 MB of answers nobody reads yet); then the
        # client reads everything: every answer in order, then EOF.
        self.assertTrue(sender.wait_stalled(0.5, 30), "the hub read everything without a stall")
        self.assertEqual(c.read_until_eof(timeout=60), want)
        sender.join(10)
        self.assertIsNone(sender.error)
        self.assertEqual(hub.query("SELECT count(*) AS n FROM readings"), [{"n": n // 2}])


class ResetTest(unittest.TestCase):
    def reset(self, sock):
        """Closes with SO_LINGER 0: the kernel sends RST, not FIN."""
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()

    def test_resets_mid_frame(self):
        hub = hubtest.start_hub(self, log_level="info", env=hubtest.SMALL_QUARANTINE_ENV)
        start_kb = hub.rss_kb()
        for i in range(50):
            mark = hub.log_count()
            sock = socket.create_connection(("127.0.0.1", hub.port), timeout=5)
            port = sock.getsockname()[1]
            first, answer = ((frame(sensor="whole", temp=20, seq=i), {"ok": True, "seq": i})
                             if i % 2 else (PING, PONG))
            pad = b"p" * (3000 if i % 3 == 0 else 10)
            sock.sendall(first + b'{"sensor":"partial","temp":1,"pad":"' + pad)
            # The answer to the first frame shows the hub has read the partial
            # frame too (one send, one segment on loopback).
            self.assertEqual(json.loads(sock.makefile("rb").readline()), answer)
            self.reset(sock)
            hub.wait_for_log(r"127\.0\.0\.1:%d: (connection lost|cannot write acks).*reset" % port,
                             timeout=5, start=mark)
        # A client with unread answers piling up, then reset.
        for _ in range(5):
            sock = socket.create_connection(("127.0.0.1", hub.port), timeout=5)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.sendall(frame(cmd="echo", data="r" * 4000) * 200 + b'{"sensor":"partial"')
            self.reset(sock)
        with hub.client() as c:
            c.send(PING)
            self.assertEqual(c.read_line(), PONG)
        self.assertTrue(hub.alive())
        names = {r["name"] for r in hub.query("SELECT name FROM sensors")}
        self.assertNotIn("partial", names)
        self.assertEqual(hub.query("SELECT count(*) AS n FROM readings"), [{"n": 25}])
        grew_kb = hub.rss_kb() - start_kb
        self.assertLess(grew_kb, rss_bound_kb(8 * KB), "RSS grew %d kB after resets" % grew_kb)


class CrowdTest(unittest.TestCase):
    # The drain timeout is long because while the deaf flooders fill their
    # kernel buffers (~1.1 GB in all) the sim's acks can take seconds: 2.6 s
    # at most in a Release build, 11 s under ASan (docs/LIMITS.md, "Known weak
    # spots"). Every frame must still be acked.
    SIM_ARGS = ("--sensors", 5, "--rate", 20, "--duration", 5, "--drain-timeout", 45)

    def test_1000_hostile_clients_and_a_sensor_sim(self):
        crowd_size = 1000
        problem = hubtest.raise_nofile_limit(crowd_size + 200)
        if problem:
            self.skipTest(problem)
        if not hubtest.SIM_BIN:
            self.skipTest("SENSOR_SIM_BIN is not set")
        # max_unacked small, so deaf flooders stall early; max_connections
        # above the crowd, because error flooders reconnect while the hub
        # is still closing their last connection.
        hub = hubtest.start_hub(self, config={"max_unacked": 8, "max_connections": 2000},
                                log_level="info", env=hubtest.SMALL_QUARANTINE_ENV)
        start_kb = hub.rss_kb()
        crowd = hostile.HostileCrowd(hub.port)
        self.addCleanup(crowd.close_all)
        self.assertEqual(len(crowd), crowd_size)
        t0 = time.monotonic()
        crowd.connect_all()
        connected_s = time.monotonic() - t0
        sim = subprocess.Popen(
            [hubtest.SIM_BIN, "--host", "127.0.0.1", "--port", str(hub.port)] +
            [str(a) for a in self.SIM_ARGS] + ["--json", "--quiet"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            preexec_fn=hubtest.die_with_parent)
        self.addCleanup(lambda: sim.poll() is None and sim.kill())
        crowd.run(until=lambda: sim.poll() is not None, seconds=80)
        self.assertIsNotNone(sim.poll(), "sensor-sim still running after 80 s")
        out, err = sim.communicate()
        with_crowd_kb = hub.rss_kb()
        # The hub serves a newcomer while the crowd is still connected.
        with hub.client() as c:
            c.send(PING)
            self.assertEqual(c.read_line(timeout=2), PONG)
        peak_kb = hub.hwm_kb()
        summary = crowd.summary()
        anomalies = list(crowd.anomalies)
        crowd.close_all()

        report = json.loads(out) if out.strip() else None
        print("\n1000 hostile clients connected in %.2f s; %s\nsensor-sim: %s\n"
              "hub RSS: start %d kB, with the crowd %d kB, peak (VmHWM) %d kB, growth %d kB "
              "(bound %d kB)" % (connected_s, summary, out.decode().strip(), start_kb,
                                 with_crowd_kb, peak_kb, peak_kb - start_kb,
                                 rss_bound_kb(CROWD_RSS_GROWTH_BOUND_KB)))
        self.assertEqual(sim.returncode, 0, "sensor-sim: %s %s" % (out, err))
        self.assertGreater(report["sent"], 0)
        self.assertEqual(report["acked"], report["sent"])
        self.assertEqual(anomalies[:5], [], "%d hostile clients saw something else than "
                                            "PROTOCOL.md promises" % len(anomalies))
        self.assertGreater(crowd.error_closes, 0, "no error flooder reached the limit")
        self.assertTrue(hub.alive())
        self.assertLess(peak_kb - start_kb, rss_bound_kb(CROWD_RSS_GROWTH_BOUND_KB))
        self.assertLess(rss_bound_kb(CROWD_RSS_GROWTH_BOUND_KB) * KB,
                        crowd_size * hostile.per_connection_bound(4096, 8) *
                        (ASAN_RSS_FACTOR if hubtest.HUB_SANITIZED else 1),
                        "the bound must stay below the computed worst case")
        with hub.client() as c:
            c.send(frame(sensor="after-crowd", temp=20, seq=1))
            self.assertEqual(c.read_line(), {"ok": True, "seq": 1})
        self.assertEqual(hub.stop(), 0)


if __name__ == "__main__":
    unittest.main()
