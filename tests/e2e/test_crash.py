"""Stopping and crashing mid-stream: "ack means stored".

(a) SIGTERM while clients pipeline frames: exit 0, every positively acked
frame is in the database, integrity_check ok.
(b) kill -9 under load (sensor-sim plus our own clients): every acked frame
survives; after a restart on the same file, resending every frame gives
"dup":true for the acked ones and no (sensor, ts_ms) is stored twice.
"""

import signal
import socket
import struct
import time
import unittest

import hubtest


class StreamClient(hubtest.StreamingClient):
    """Pipelines frames (each with seq and a unique ts) as fast as the
    connection takes them, recording every ack."""

    BATCH = 50

    def __init__(self, port, sensor, total, ts_base_ms):
        super().__init__(port, sensor)
        self.ts = [ts_base_ms + i for i in range(total)]
        fmt = '{"sensor":"%s","temp":%%.1f,"hum":50,"ts":%%d,"seq":%%d}\n' % sensor
        self.frames = [(fmt % (20 + (i % 100) / 10, self.ts[i], i)).encode() for i in range(total)]
        self.acks = []
        self.frames_sent = 0
        self.write_error = None

    def _write(self):
        try:
            for start in range(0, len(self.frames), self.BATCH):
                if self.stopping.is_set():
                    break
                batch = self.frames[start:start + self.BATCH]
                self.sock.sendall(b"".join(batch))
                self.frames_sent = start + len(batch)
        except OSError as e:
            self.write_error = e

    def on_acks(self, acks):
        self.acks.extend(acks)

    def ack_count(self):
        return len(self.acks)

    def acked_ts(self, tc):
        """ts_ms of every positively acked frame; checks order and content."""
        out = []
        for i, ack in enumerate(self.acks):
            tc.assertEqual(ack, {"ok": True, "seq": i}, "%s ack %d" % (self.name, i))
            out.append(self.ts[i])
        return out


def stored_ts(hub_or_path, sensor):
    path = hub_or_path if isinstance(hub_or_path, str) else hub_or_path.db_path
    rows = hubtest.db_query(path, "SELECT r.ts_ms FROM readings r JOIN sensors s "
                                  "ON s.id = r.sensor_id WHERE s.name = ?", (sensor,))
    return [r["ts_ms"] for r in rows]


class CrashTest(unittest.TestCase):
    def start_clients(self, hub, n, total):
        base = hubtest.now_ms() - 3600 * 1000
        clients = []
        for k in range(n):
            c = StreamClient(hub.port, "stream-%d" % k, total, base + k * total)
            self.addCleanup(c.close)
            clients.append(c)
        for c in clients:
            c.start()
        return clients

    def test_sigterm_mid_stream(self):
        hub = hubtest.start_hub(self, log_level="info")
        clients = self.start_clients(hub, 3, 100000)
        for c in clients:
            c.wait_acks(300, 20)
        self.assertEqual(hub.stop(signal.SIGTERM), 0, hub.log_text())
        for c in clients:
            c.finish()
        self.assertEqual(hubtest.integrity_check(hub.db_path), "ok")
        for c in clients:
            with self.subTest(sensor=c.name):
                acked = c.acked_ts(self)
                self.assertGreaterEqual(len(acked), 300)
                self.assertLess(len(acked), len(c.frames), "the stop came after everything")
                stored = set(stored_ts(hub, c.name))
                missing = [t for t in acked if t not in stored]
                self.assertEqual(missing[:5], [], "%d acked readings missing" % len(missing))
        dups = hubtest.db_query(hub.db_path, "SELECT sensor_id, ts_ms, count(*) AS n FROM readings "
                                "GROUP BY sensor_id, ts_ms HAVING n > 1")
        self.assertEqual(dups, [])

    def test_sigterm_with_a_partial_frame(self):
        hub = hubtest.start_hub(self, log_level="info")
        with hub.client() as c:
            c.send(hubtest.frame(sensor="p", temp=1, seq=1) +
                   hubtest.frame(sensor="p", temp=2, seq=2) + b'{"sensor":"p","te')
            self.assertEqual(c.read_lines(2), [{"ok": True, "seq": 1}, {"ok": True, "seq": 2}])
            self.assertEqual(hub.stop(), 0)
            # A partial frame gets no ack at a stop (not even "incomplete frame").
            self.assertEqual(c.read_until_eof(), [])
        self.assertEqual(len(stored_ts(hub, "p")), 2)

    def test_sigterm_waits_at_most_write_timeout_for_a_client_that_never_reads(self):
        hub = hubtest.start_hub(self, config={"write_timeout_s": 4}, log_level="info")
        deaf = hub.client(rcvbuf=4096)
        self.addCleanup(deaf.close)
        data = b"".join(hubtest.frame(cmd="echo", data="e" * 2000) for _ in range(5000))
        sender = hubtest.Sender(deaf.sock, data)
        self.addCleanup(sender.stopping.set)
        sender.start()
        self.assertTrue(sender.wait_stalled(0.5, 20), "the hub took every byte")
        with hub.client() as other:
            other.send(b'{"cmd":"ping"}\n')
            self.assertEqual(other.read_line(), {"ok": True, "cmd": "ping"})
        t0 = time.monotonic()
        self.assertEqual(hub.stop(timeout=15), 0, hub.log_text())
        self.assertLess(time.monotonic() - t0, 4 + 5)

    def test_clients_that_vanish_mid_stream(self):
        hub = hubtest.start_hub(self, log_level="info")
        data = b"".join(hubtest.frame(sensor="gone", temp=20, seq=i) for i in range(2000))
        for _ in range(30):
            s = socket.create_connection(("127.0.0.1", hub.port), timeout=5)
            s.sendall(data)
            # Close with a reset while the hub holds its readings.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()
        with hub.client() as c:
            c.send(hubtest.frame(sensor="stays", temp=20, seq=1) + b'{"cmd":"ping"}\n')
            self.assertEqual(c.read_lines(2), [{"ok": True, "seq": 1},
                                               {"ok": True, "cmd": "ping"}])
        self.assertEqual(hub.stop(), 0, hub.log_text())
        self.assertEqual(hubtest.integrity_check(hub.db_path), "ok")

    def test_kill9_under_load_then_restart_and_resend(self):
        hub = hubtest.start_hub(self, log_level="info")
        sim = hubtest.start_sim(self, hub.port, "--sensors", 20, "--count", 1000000,
                                "--window", 8, "--rate", 0)
        clients = self.start_clients(hub, 2, 100000)
        for c in clients:
            c.wait_acks(500, 20)
        hubtest.wait_until(lambda: hub.query("SELECT count(*) AS n FROM readings")[0]["n"] >
                           2000, 20, "sensor-sim readings to be stored")
        self.assertIsNone(sim.poll(), "sensor-sim exited before the kill")
        hub.kill9()
        hubtest.stop_sim(sim)
        for c in clients:
            c.finish()

        self.assertEqual(hubtest.integrity_check(hub.db_path), "ok")
        acked = {}
        for c in clients:
            acked[c.name] = c.acked_ts(self)
            stored = set(stored_ts(hub, c.name))
            missing = [t for t in acked[c.name] if t not in stored]
            self.assertEqual(missing[:5], [], "%s: %d of %d acked readings lost by kill -9"
                             % (c.name, len(missing), len(acked[c.name])))

        # Restart on the same database and resend every frame each client sent.
        hub2 = hubtest.Hub(db=hub.db_path, tmpdir=hub.tmpdir, log_level="info")
        self.addCleanup(hub2.close)
        hub2.start()
        for c in clients:
            n_acked = len(acked[c.name])
            resend = max(c.frames_sent, n_acked)
            acks = []
            with hub2.client(timeout=30) as r:
                # In steps below max_unacked, so neither side can block the other.
                for start in range(0, resend, 200):
                    end = min(start + 200, resend)
                    r.send(b"".join(c.frames[start:end]))
                    acks += r.read_lines(end - start, timeout=30)
            for i, ack in enumerate(acks):
                if i < n_acked:
                    self.assertEqual(ack, {"ok": True, "seq": i, "dup": True},
                                     "%s frame %d was acked before the kill" % (c.name, i))
                else:
                    self.assertIn(ack, ({"ok": True, "seq": i},
                                        {"ok": True, "seq": i, "dup": True}))
            missing = set(c.ts[:resend]) - set(stored_ts(hub2, c.name))
            self.assertEqual(len(missing), 0, "%s: resent frames not stored" % c.name)
        dups = hubtest.db_query(hub2.db_path, "SELECT sensor_id, ts_ms, count(*) AS n "
                                "FROM readings GROUP BY sensor_id, ts_ms HAVING n > 1")
        self.assertEqual(dups, [])
        self.assertEqual(hub2.stop(), 0)
        self.assertEqual(hubtest.integrity_check(hub2.db_path), "ok")


if __name__ == "__main__":
    unittest.main()
