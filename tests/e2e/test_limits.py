"""PROTOCOL.md's limits over the wire: max_connections, idle_timeout_s,
max_errors_per_minute, max_unacked (backpressure, bounded memory, nothing
dropped), write_timeout_s, allowed_sources and auth_token."""

import time
import unittest

import hubtest
from hubtest import frame

PING = b'{"cmd":"ping"}\n'
PONG = {"ok": True, "cmd": "ping"}


def count_readings(hub, sensor=None):
    if sensor is None:
        return hub.query("SELECT count(*) AS n FROM readings")[0]["n"]
    return hub.query("SELECT count(*) AS n FROM readings r JOIN sensors s ON s.id = r.sensor_id "
                     "WHERE s.name = ?", (sensor,))[0]["n"]


class MaxConnectionsTest(unittest.TestCase):
    def test_fourth_connection_is_refused_with_one_line(self):
        hub = hubtest.start_hub(self, config={"max_connections": 3})
        clients = [hub.client() for _ in range(3)]
        for c in clients:
            self.addCleanup(c.close)
            c.send(PING)
            self.assertEqual(c.read_line(), PONG)
        with hub.client() as extra:
            lines = extra.read_until_eof()
        self.assertEqual(len(lines), 1, lines)
        self.assertIs(lines[0]["ok"], False)
        self.assertTrue(lines[0].get("error"), lines[0])
        for i, c in enumerate(clients):
            c.send(frame(sensor="c%d" % i, temp=20, seq=i))
            self.assertEqual(c.read_line(), {"ok": True, "seq": i})
        # Once one of the three leaves, a new connection gets in.
        clients[0].shutdown_write()
        self.assertEqual(clients[0].read_until_eof(), [])

        def new_client_works():
            c = hub.client()
            c.send(PING)
            try:
                return c.read_line() == PONG
            except hubtest.HubError:
                return False
            finally:
                c.close()
        hubtest.wait_until(new_client_works, 10, "a connection after one of three closed")


class IdleTimeoutTest(unittest.TestCase):
    def test_silent_connection_is_closed(self):
        hub = hubtest.start_hub(self, config={"idle_timeout_s": 1})
        with hub.client() as active, hub.client() as silent:
            t0 = time.monotonic()
            # A client that keeps talking stays past the timeout.
            while time.monotonic() - t0 < 2.2:
                active.send(PING)
                self.assertEqual(active.read_line(), PONG)
                time.sleep(0.3)  # pacing of the talker, not a wait for a condition
            self.assertEqual(silent.read_until_eof(timeout=5), [])
            self.assertGreater(time.monotonic() - t0, 0.9)
            active.send(PING)
            self.assertEqual(active.read_line(), PONG)
            # Acks already sent do not keep a connection alive.
            t1 = time.monotonic()
            self.assertEqual(active.read_until_eof(timeout=5), [])
            self.assertGreater(time.monotonic() - t1, 0.5)

    def test_partial_frame_does_not_keep_it_open(self):
        hub = hubtest.start_hub(self, config={"idle_timeout_s": 1})
        with hub.client() as c:
            c.send(b'{"sensor":"s","temp":20,"seq":1}\n{"sensor":"s",')
            self.assertEqual(c.read_line(), {"ok": True, "seq": 1})
            rest = c.read_until_eof(timeout=5)
            self.assertLessEqual(len(rest), 1, rest)
            for ack in rest:
                self.assertIs(ack["ok"], False)


class ErrorLimitTest(unittest.TestCase):
    def setUp(self):
        self.hub = hubtest.start_hub(self, config={"max_errors_per_minute": 5})

    def test_fifth_error_is_sent_then_close(self):
        with self.hub.client() as c:
            for i in range(4):
                c.send(frame(sensor="s", hum=140, seq=i))
                self.assertEqual(c.read_line(), {"ok": False, "seq": i,
                                                 "error": "hum: 140 is out of range [0, 100]"})
                # Good frames in between do not count.
                c.send(frame(sensor="s", hum=40, seq=100 + i))
                self.assertEqual(c.read_line(), {"ok": True, "seq": 100 + i})
            c.send(b'junk\n')
            last = c.read_line()
            self.assertIs(last["ok"], False)
            self.assertTrue(last["error"].startswith("invalid JSON at byte 0"), last)
            try:
                c.send(PING)
            except OSError:
                pass
            self.assertEqual(c.read_until_eof(), [])
        self.assertEqual(count_readings(self.hub), 4)
        # Other connections are not affected.
        with self.hub.client() as c:
            c.send(PING)
            self.assertEqual(c.read_line(), PONG)

    def test_pipelined_errors(self):
        with self.hub.client() as c:
            c.send(b"".join(frame(sensor="s", temp=900, seq=i) for i in range(5)) +
                   frame(sensor="s", temp=20, seq=5) + PING + frame(sensor="s", temp=900, seq=6))
            acks = c.read_until_eof()
        self.assertEqual([a.get("seq") for a in acks], [0, 1, 2, 3, 4], acks)
        for a in acks:
            self.assertIs(a["ok"], False)
            self.assertTrue(a["error"].startswith("temp:"), a)


class BackpressureTest(unittest.TestCase):
    N = 100000
    ECHO_EVERY = 10
    ECHO_DATA = "e" * 2000

    def flood_data(self, sensor):
        """N frames: readings with seq, and every ECHO_EVERY-th an echo whose
        2 kB answer fills the kernel's socket buffers quickly (small acks
        alone would fit in them and never push back)."""
        parts = []
        for i in range(self.N):
            if i % self.ECHO_EVERY == self.ECHO_EVERY - 1:
                parts.append(frame(cmd="echo", data=self.ECHO_DATA))
            else:
                parts.append(frame(sensor=sensor, temp=20, seq=i))
        return b"".join(parts)

    def expected_answer(self, i):
        if i % self.ECHO_EVERY == self.ECHO_EVERY - 1:
            return {"ok": True, "cmd": "echo", "data": self.ECHO_DATA}
        return {"ok": True, "seq": i}

    def test_unread_acks_stop_reading_nothing_dropped(self):
        hub = hubtest.start_hub(self, config={"max_unacked": 4, "write_timeout_s": 60},
                                log_level="info", env=hubtest.SMALL_QUARANTINE_ENV)
        rss_before = hub.rss_kb()
        data = self.flood_data("flood")
        readings = self.N - self.N // self.ECHO_EVERY
        flood = hub.client(rcvbuf=4096)
        self.addCleanup(flood.close)
        sender = hubtest.Sender(flood.sock, data)
        self.addCleanup(sender.stopping.set)
        sender.start()

        # The hub stops taking frames from it: the stored count stops growing
        # (checked over a 1 s observation window, repeated up to a deadline).
        def stalled():
            before = count_readings(hub, "flood")
            time.sleep(1.0)
            return count_readings(hub, "flood") == before
        hubtest.wait_until(stalled, 30, "the hub to stop reading the flooding client")
        stored_at_stall = count_readings(hub, "flood")
        self.assertLess(stored_at_stall, readings, "everything was stored without a read")
        self.assertTrue(sender.wait_stalled(1.0, 30), "the sender got every byte out")

        # The hub still serves others while that client is stuck.
        with hub.client() as other:
            t0 = time.monotonic()
            other.send(PING + frame(sensor="other", temp=21, seq=1))
            self.assertEqual(other.read_lines(2, timeout=5), [PONG, {"ok": True, "seq": 1}])
            self.assertLess(time.monotonic() - t0, 2.0)
        grew_kb = hub.rss_kb() - rss_before
        self.assertLess(grew_kb, 50 * 1024, "hub RSS grew by %d kB under backpressure" % grew_kb)
        self.assertEqual(count_readings(hub, "flood"), stored_at_stall)

        # Reading now drains everything, one answer per frame, in order.
        answers = flood.read_lines(self.N, timeout=120)
        sender.join(30)
        self.assertIsNone(sender.error)
        self.assertEqual(sender.sent, len(data))
        bad = [(i, a) for i, a in enumerate(answers) if a != self.expected_answer(i)]
        self.assertEqual(bad[:3], [], "%d wrong answers" % len(bad))
        self.assertEqual(count_readings(hub, "flood"), readings)
        flood.shutdown_write()
        self.assertEqual(flood.read_until_eof(), [])
        self.assertLess(hub.rss_kb() - rss_before, 50 * 1024)

    def test_write_timeout_closes_a_client_that_never_reads(self):
        hub = hubtest.start_hub(self, config={"max_unacked": 4, "write_timeout_s": 1},
                                log_level="info")
        mark = hub.log_count()
        data = self.flood_data("deaf")
        deaf = hub.client(timeout=30, rcvbuf=4096)
        self.addCleanup(deaf.close)
        sender = hubtest.Sender(deaf.sock, data)
        self.addCleanup(sender.stopping.set)
        sender.start()
        t0 = time.monotonic()
        # The hub gives up on it: the sender fails (reset / broken pipe) or, if
        # it got everything out, the connection still ends before every
        # answer arrived.
        hub.wait_for_log(r"127\.0\.0\.1:\d+.*(write_timeout|not read|closing)", timeout=20,
                         start=mark)
        self.assertGreater(time.monotonic() - t0, 0.9)
        sender.join(20)
        self.assertFalse(sender.is_alive(), "sender still blocked after the hub closed")
        if sender.error is None:
            answers = 0
            while deaf.read_raw_line(timeout=20) is not None:
                answers += 1
            self.assertLess(answers, self.N, "every answer was delivered")
        else:
            self.assertIsInstance(sender.error, (ConnectionResetError, BrokenPipeError))
        with hub.client() as other:
            other.send(PING)
            self.assertEqual(other.read_line(), PONG)


class AllowedSourcesTest(unittest.TestCase):
    def test_loopback_refused_without_a_line(self):
        hub = hubtest.start_hub(self, config={"allowed_sources": ["10.0.0.0/8"]})
        mark = hub.log_count()
        with hub.client() as c:
            try:
                c.send(PING)
            except OSError:
                pass
            self.assertEqual(c.read_until_eof(), [])
        hub.wait_for_log(r"127\.0\.0\.1:\d+.*(allowed|refused)", timeout=5, start=mark)

    def test_listed_source_allowed(self):
        hub = hubtest.start_hub(self, config={"allowed_sources": ["10.0.0.0/8", "127.0.0.0/8"]})
        with hub.client() as c:
            c.send(PING)
            self.assertEqual(c.read_line(), PONG)


class AuthTokenTest(unittest.TestCase):
    def setUp(self):
        self.hub = hubtest.start_hub(self, config={"auth_token": "s3cret",
                                                   "max_errors_per_minute": 10})

    def test_frames_before_hello(self):
        with self.hub.client() as c:
            c.send(frame(sensor="s", temp=20, seq=5) + frame(sensor="s", temp=20) + PING +
                   b'{"cmd":"echo","data":1}\n' + b'{"sensor":"s","temp":20,"seq":1.5}\n' +
                   b'{"cmd":"stats"}\n')
            acks = c.read_lines(6)
            self.assertEqual(acks, [
                {"ok": False, "seq": 5, "error": "hello with token required"},
                {"ok": False, "error": "hello with token required"},
                PONG,
                {"ok": False, "cmd": "echo", "error": "hello with token required"},
                {"ok": False, "error": "hello with token required"},
                {"ok": False, "cmd": "stats", "error": "hello with token required"},
            ])
            c.send(b'{"cmd":"hello","token":"s3cret"}\n' + frame(sensor="s", temp=20, seq=6) +
                   b'{"cmd":"echo","data":2}\n')
            self.assertEqual(c.read_lines(3), [{"ok": True, "cmd": "hello"},
                                               {"ok": True, "seq": 6},
                                               {"ok": True, "cmd": "echo", "data": 2}])
        rows = self.hub.query("SELECT seq FROM readings")
        self.assertEqual(rows, [{"seq": 6}])
        # Authentication is per connection.
        with self.hub.client() as c:
            c.send(frame(sensor="s", temp=20, seq=7))
            self.assertEqual(c.read_line(),
                             {"ok": False, "seq": 7, "error": "hello with token required"})

    def test_bad_token_closes(self):
        with self.hub.client() as c:
            c.send(b'{"cmd":"hello","token":"guess"}\n' + frame(sensor="s", temp=20, seq=1))
            self.assertEqual(c.read_until_eof(),
                             [{"ok": False, "cmd": "hello", "error": "bad token"}])
        self.assertEqual(count_readings(self.hub), 0)

    def test_token_that_is_not_a_string_is_a_bad_token(self):
        for token in (5, None):
            with self.subTest(token=token):
                with self.hub.client() as c:
                    c.send(frame(cmd="hello", token=token) + frame(sensor="s", temp=20, seq=1))
                    self.assertEqual(c.read_until_eof(timeout=3),
                                     [{"ok": False, "cmd": "hello", "error": "bad token"}])

    def test_bad_token_after_a_good_hello_closes(self):
        with self.hub.client() as c:
            c.send(b'{"cmd":"hello","token":"s3cret"}\n{"cmd":"hello","token":"bad"}\n' + PING)
            self.assertEqual(c.read_until_eof(), [{"ok": True, "cmd": "hello"},
                                                  {"ok": False, "cmd": "hello",
                                                   "error": "bad token"}])

    def test_unauthenticated_frames_count_as_errors(self):
        with self.hub.client() as c:
            c.send(b"".join(frame(sensor="s", temp=20, seq=i) for i in range(12)))
            acks = c.read_until_eof()
        self.assertEqual(acks, [{"ok": False, "seq": i, "error": "hello with token required"}
                                for i in range(10)])


if __name__ == "__main__":
    unittest.main()
