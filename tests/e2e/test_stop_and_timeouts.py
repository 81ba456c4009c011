"""Timers and stopping at their edges: the idle timeout after a backpressure
pause, the write timeout for a slow (not deaf) reader, and a stop signal that
meets frames held back by backpressure, a client that never reads, or a
database locked by another process."""

import re
import signal
import socket
import sqlite3
import threading
import time
import unittest

import hubtest
from hubtest import frame

BUSY_LINE = re.compile(r" warn  storage busy: ")
ECHO = b'{"cmd":"echo","data":"' + b"e" * 3000 + b'"}\n'


def lock_database(testcase, path):
    """Holds the database's write lock from another connection until the
    returned function is called (or the test ends)."""
    conn = sqlite3.connect(path, timeout=0, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    released = []

    def release():
        if not released:
            released.append(True)
            conn.execute("ROLLBACK")
            conn.close()

    testcase.addCleanup(release)
    return release


def reading(seq):
    return frame(sensor="t-1", temp=20, ts=hubtest.now_ms() - 60000 + seq, seq=seq)


class IdleAfterPauseTest(unittest.TestCase):
    def test_idle_timeout_applies_again_after_backpressure(self):
        hub = hubtest.start_hub(self, config={"idle_timeout_s": 1, "max_unacked": 2},
                                log_level="info")
        with hub.client() as c:
            c.send(reading(0))
            self.assertEqual(c.read_line(), {"ok": True, "seq": 0})
            release = lock_database(self, hub.db_path)
            # Two readings wait on the store, the third is held: paused.
            c.send(reading(1) + reading(2) + reading(3))
            hub.wait_for_log(BUSY_LINE)
            time.sleep(1.5)  # the idle deadline passes while the hub does not read
            release()
            self.assertEqual(c.read_lines(3), [{"ok": True, "seq": i} for i in (1, 2, 3)])
            # Reading again, the client is silent: idle_timeout_s closes it.
            t0 = time.monotonic()
            self.assertEqual(c.read_until_eof(timeout=10), [])
            self.assertLess(time.monotonic() - t0, 5)


class SlowReaderTest(unittest.TestCase):
    def test_a_client_reading_slowly_is_not_write_timed_out(self):
        # A client that reads its answers, more slowly than it sends, keeps its
        # connection: write_timeout_s is for acks that do not drain at all.
        hub = hubtest.start_hub(self, config={"write_timeout_s": 2}, log_level="info")
        c = hub.client(timeout=30, rcvbuf=8192)
        self.addCleanup(c.close)
        sender = hubtest.Sender(c.sock, ECHO * 3000)
        self.addCleanup(sender.stopping.set)
        sender.start()
        got = 0
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            data = c.sock.recv(4096)
            self.assertTrue(data, "the hub closed a client that reads its acks")
            got += len(data)
            time.sleep(0.01)  # the client's own pace: a slow reader
        self.assertGreater(got, 100 * 1024)
        self.assertIsNone(sender.error)
        self.assertEqual(hub.log_lines_matching(r"write_timeout_s"), [])


class StopTest(unittest.TestCase):
    def test_stop_acks_frames_held_by_backpressure(self):
        hub = hubtest.start_hub(self, config={"max_unacked": 2}, log_level="info")
        with hub.client() as c:
            release = lock_database(self, hub.db_path)
            c.send(b"".join(reading(i) for i in range(1, 6)))
            hub.wait_for_log(BUSY_LINE)  # the hub has read them: 2 at the store, 3 held
            hub.proc.send_signal(signal.SIGTERM)
            hub.wait_for_log(r"SIGTERM received")
            release()
            self.assertEqual(c.read_until_eof(), [{"ok": True, "seq": i} for i in range(1, 6)])
        hub.proc.wait(15)  # it exits by itself; a second signal would mean "now"
        self.assertEqual(hub.stop(), 0, hub.log_text())
        self.assertEqual([r["seq"] for r in hub.query("SELECT seq FROM readings ORDER BY seq")],
                         [1, 2, 3, 4, 5])

    def test_stop_does_not_wait_long_for_a_client_that_never_reads(self):
        hub = hubtest.start_hub(self, config={"write_timeout_s": 600}, log_level="info")
        c = hub.client(timeout=30, rcvbuf=4096)
        self.addCleanup(c.close)
        c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
        sender = hubtest.Sender(c.sock, ECHO * 3000)
        self.addCleanup(sender.stopping.set)
        sender.start()
        self.assertTrue(sender.wait_stalled(quiet_s=1.0, timeout=20))
        t0 = time.monotonic()
        self.assertEqual(hub.stop(timeout=30), 0, hub.log_text())
        self.assertLess(time.monotonic() - t0, 15, "stop waited for write_timeout_s")
        hub.wait_for_log(r"acks still pending \d+ s after the stop signal, closing")

    def test_stop_gives_up_on_a_database_locked_for_good(self):
        hub = hubtest.start_hub(self, log_level="info")
        with hub.client() as c:
            lock_database(self, hub.db_path)
            c.send(reading(1))
            hub.wait_for_log(BUSY_LINE)
            t0 = time.monotonic()
            stopped = []
            stopper = threading.Thread(target=lambda: stopped.append(hub.stop(timeout=30)))
            stopper.start()
            # The reading is refused, not lost silently, and the hub exits.
            self.assertEqual(c.read_until_eof(timeout=30),
                             [{"ok": False, "seq": 1, "error": "storage error"}])
            stopper.join(30)
        self.assertEqual(stopped, [0], hub.log_text())
        self.assertLess(time.monotonic() - t0, 25)


if __name__ == "__main__":
    unittest.main()
