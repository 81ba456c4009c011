"""A crash loop: the hub is killed with SIGKILL 20 times under load and
restarted on the same database each time.

Each round: a hub on the database the last one left, sensor-sim hammering
it, and a client of ours recording every ack; SIGKILL at a different point of
each round. After each kill, on a copy of exactly what the kill left (the
-wal included): PRAGMA integrity_check is ok, every reading acked in any
round so far is there, and no (sensor, ts_ms) is stored twice. The next hub
then recovers the original files itself. At the end everything our clients
sent is resent: the acked frames come back "dup":true, and nothing is stored
twice.
"""

import os
import random
import shutil
import signal
import tempfile
import time
import unittest

import hubtest

ROUNDS = 20
SIM_SENSORS = 8
SIM_RATE = 500  # frames per second per sensor


class WindowedClient(hubtest.StreamingClient):
    """Sends readings (sensor `name`, unique ts, seq = index) at `rate` frames
    per second with at most `window` unacked, from a writer thread, while a
    reader thread counts the acks, checking each is {"ok":true,"seq":N} in
    order."""

    def __init__(self, port, name, ts_base_ms, rate=4000, window=1000, batch=10, limit=100000):
        super().__init__(port, name)
        self.ts_base_ms = ts_base_ms
        self.rate, self.window, self.batch, self.limit = rate, window, batch, limit
        self.sent = 0
        self.acked = 0
        self.wrong_acks = []  # (index, ack) of acks that were not {"ok":true,"seq":index}

    def frame(self, i):
        return ('{"sensor":"%s","temp":%.1f,"hum":50,"ts":%d,"seq":%d}\n'
                % (self.name, 20 + (i % 100) / 10, self.ts(i), i)).encode()

    def ts(self, i):
        return self.ts_base_ms + i

    def _write(self):
        start = time.monotonic()
        try:
            while self.sent < self.limit and not self.stopping.is_set():
                # Paced: the database should grow by a round's worth of
                # load, not by whatever the loopback can carry.
                if self.stopping.wait(max(0, start + self.sent / self.rate - time.monotonic())):
                    return
                with self.cond:
                    while (self.sent - self.acked >= self.window and self.reader.is_alive()
                           and not self.stopping.is_set()):
                        self.cond.wait(0.5)
                    if not self.reader.is_alive():
                        return
                end = min(self.sent + self.batch, self.limit)
                data = b"".join(self.frame(i) for i in range(self.sent, end))
                # Counted before sending: a kill may cut the batch anywhere,
                # and the hub may have stored any of its frames.
                self.sent = end
                self.sock.sendall(data)
        except OSError:
            pass  # the hub was killed

    def on_acks(self, acks):
        for ack in acks:
            if ack != {"ok": True, "seq": self.acked} and len(self.wrong_acks) < 5:
                self.wrong_acks.append((self.acked, ack))
            self.acked += 1

    def ack_count(self):
        return self.acked


def copy_as_left(db_path, dest_dir):
    """Copies the database and its -wal (not the -shm, which SQLite rebuilds)
    to dest_dir, replacing an earlier copy; returns the copy's path."""
    shutil.rmtree(dest_dir, ignore_errors=True)
    os.mkdir(dest_dir)
    copy = os.path.join(dest_dir, os.path.basename(db_path))
    shutil.copyfile(db_path, copy)
    if os.path.exists(db_path + "-wal"):
        shutil.copyfile(db_path + "-wal", copy + "-wal")
    return copy


def stored_pairs(db_path):
    rows = hubtest.sqlite_cli_json(db_path, "SELECT s.name AS name, r.ts_ms AS ts FROM readings r "
                                            "JOIN sensors s ON s.id = r.sensor_id "
                                            "WHERE s.name LIKE 'loop-%'")
    return {(r["name"], r["ts"]) for r in rows}


def stored_twice(db_path):
    return hubtest.sqlite_cli_json(db_path, "SELECT sensor_id, ts_ms, count(*) AS n FROM readings "
                                            "GROUP BY sensor_id, ts_ms HAVING n > 1")


class CrashLoopTest(unittest.TestCase):
    def test_kill9_twenty_times_under_load(self):
        seed = int(os.environ.get("CRASH_LOOP_SEED", random.randrange(1 << 30)))
        rng = random.Random(seed)
        tmpdir = tempfile.mkdtemp(prefix="sensorhub-crashloop-")
        self.addCleanup(shutil.rmtree, tmpdir, True)
        db_path = os.path.join(tmpdir, "hub.db")
        check_dir = os.path.join(tmpdir, "as-left")
        base_ms = hubtest.now_ms() - 24 * 3600 * 1000
        clients = []
        acked = set()
        cut_rounds = 0  # rounds killed while frames of ours were unacked
        started = time.monotonic()
        for round_no in range(ROUNDS):
            with self.subTest(round=round_no, seed=seed):
                hub = hubtest.Hub(db=db_path, tmpdir=tmpdir, log_level="info")
                self.addCleanup(hub.close)
                hub.start()
                sim_before = hub.query("SELECT count(*) AS n FROM readings r JOIN sensors s "
                                       "ON s.id = r.sensor_id WHERE s.name LIKE 'sim-%'")[0]["n"]
                sim = hubtest.start_sim(self, hub.port, "--sensors", SIM_SENSORS,
                                        "--count", 1000000, "--window", 8, "--rate", SIM_RATE)
                client = WindowedClient(hub.port, "loop-%d" % round_no,
                                        base_ms + round_no * 100000)
                self.addCleanup(client.close)
                clients.append(client)
                round_start = time.monotonic()
                client.start()
                # Both under way: our readings acked, sensor-sim's committed.
                client.wait_acks(50, 20)
                hubtest.wait_until(
                    lambda: hub.query("SELECT count(*) AS n FROM readings r JOIN sensors s "
                                      "ON s.id = r.sensor_id WHERE s.name LIKE 'sim-%'")[0]["n"]
                    > sim_before + 100, 20, "sensor-sim's readings to be stored")
                # Then the kill, at a different moment of the load each round.
                load_s = rng.uniform(0.2, 0.8)
                left = round_start + load_s - time.monotonic()
                if left > 0:
                    time.sleep(left)
                hub.kill9()
                self.assertEqual(hub.returncode, -signal.SIGKILL)
                hubtest.stop_sim(sim)
                client.finish()
                hub.close()

                self.assertEqual(client.wrong_acks, [], client.name)
                if client.acked < client.sent:
                    cut_rounds += 1
                acked.update((client.name, client.ts(i)) for i in range(client.acked))
                copy = copy_as_left(db_path, check_dir)
                self.assertEqual(hubtest.integrity_check(copy), "ok")
                missing = acked - stored_pairs(copy)
                self.assertEqual(sorted(missing)[:5], [],
                                 "%d acked readings lost by kill -9" % len(missing))
                self.assertEqual(stored_twice(copy), [])
        crash_s = time.monotonic() - started
        # sensor-sim keeps commits going all the time; ours are in flight at
        # the kill in most rounds, and must have been in some.
        self.assertGreater(cut_rounds, 0, "no kill came while frames of ours were unacked")

        hub = hubtest.Hub(db=db_path, tmpdir=tmpdir, log_level="info")
        self.addCleanup(hub.close)
        hub.start()
        resent = 0
        with hub.client(timeout=30) as c:
            for client in clients:
                n_acked = client.acked
                # In steps below max_unacked, so neither side can block the other.
                for start in range(0, client.sent, 200):
                    end = min(start + 200, client.sent)
                    c.send(b"".join(client.frame(i) for i in range(start, end)))
                    for i, ack in enumerate(c.read_lines(end - start, timeout=30), start):
                        if i < n_acked:
                            self.assertEqual(ack, {"ok": True, "seq": i, "dup": True},
                                             "%s frame %d was acked before the kill"
                                             % (client.name, i))
                        else:
                            self.assertIn(ack, ({"ok": True, "seq": i},
                                                {"ok": True, "seq": i, "dup": True}))
                resent += client.sent
        self.assertEqual(hub.stop(), 0, hub.log_text())
        self.assertEqual(hubtest.integrity_check(db_path), "ok")
        every_sent = {(cl.name, cl.ts(i)) for cl in clients for i in range(cl.sent)}
        self.assertEqual(stored_pairs(db_path), every_sent)
        self.assertEqual(stored_twice(db_path), [])
        print("\n    %d kills in %.1f s (seed %d, %d with our frames in flight): %d readings "
              "acked before a kill, %d resent in %.1f s"
              % (ROUNDS, crash_s, seed, cut_rounds, len(acked), resent,
                 time.monotonic() - started - crash_s))


if __name__ == "__main__":
    unittest.main()
