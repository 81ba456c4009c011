"""Storage faults with the real hub: a full disk and a database locked by
another writer.

Disk full: the database lives on a tiny tmpfs of its own (mounting needs
root; the tests skip with the reason otherwise). Readings that cannot be
committed are acked {"ok":false,"seq":N,"error":"storage full"} and are not
in the database; the hub keeps running, logs the episode once (one error line
when it starts, one info line when commits succeed again) and stores again as
soon as there is space.

Locked: the sqlite3 CLI holds BEGIN EXCLUSIVE for a while. The hub waits,
stops reading (backpressure), warns once, and acks every frame ok after the
lock is released; nothing is refused or lost, also when the lock outlasts
SQLite's busy timeout many times over.
"""

import errno
import os
import re
import select
import socket
import subprocess
import tempfile
import time
import unittest

import hubtest

FULL_LINE = re.compile(r" error storage full: ")
RECOVERED_LINE = re.compile(r" info  storage works again: commits succeed "
                            r"\((\d+) readings were refused\)")
BUSY_LINE = re.compile(r" warn  storage busy: ")
UNBUSY_LINE = re.compile(r" info  storage no longer busy: got the database lock after \d+ "
                         r"failed attempts")


def mount_tmpfs(testcase, size):
    """Mounts a tmpfs of `size` (mount's syntax, e.g. "1m") on a new temp dir
    and registers its removal; skips the test when mounting is not allowed."""
    if os.geteuid() != 0:
        testcase.skipTest("mounting a tmpfs for the disk-full tests needs root")
    mountpoint = tempfile.mkdtemp(prefix="sensorhub-tmpfs-")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%s,mode=0700" % size,
                           "sensorhub-test", mountpoint], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        os.rmdir(mountpoint)
        testcase.skipTest("cannot mount a tmpfs (%s)" % proc.stderr.strip())

    def unmount():
        if subprocess.run(["umount", mountpoint], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", mountpoint], capture_output=True)
        os.rmdir(mountpoint)
    testcase.addCleanup(unmount)
    return mountpoint


def remount_tmpfs(mountpoint, size):
    subprocess.run(["mount", "-o", "remount,size=%s" % size, mountpoint], check=True,
                   capture_output=True, stdin=subprocess.DEVNULL)


def fill_disk(path):
    """Writes a file until the file system has no byte left; returns its size."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    chunk = b"\0" * 65536
    written = 0
    try:
        while True:
            try:
                n = os.write(fd, chunk)
            except OSError as e:
                if e.errno != errno.ENOSPC:
                    raise
                break
            if n == 0:
                break
            written += n
    finally:
        os.close(fd)
    return written


def reading(sensor, seq, ts_ms, **extra):
    return hubtest.frame(sensor=sensor, temp=20.5, hum=50, ts=ts_ms, seq=seq, **extra)


def stored_seqs(db_path, sensor):
    rows = hubtest.db_query(db_path, "SELECT r.seq FROM readings r JOIN sensors s "
                                     "ON s.id = r.sensor_id WHERE s.name = ?", (sensor,))
    return sorted(r["seq"] for r in rows)


def episodes(acks):
    """Runs of refused acks (storage full) in ack order: each one starts with
    an ok -> refused switch, or with the first ack."""
    starts = ends = 0
    refusing = False
    for ack in acks:
        if ack["ok"] and refusing:
            ends += 1
        elif not ack["ok"] and not refusing:
            starts += 1
        refusing = not ack["ok"]
    return starts, ends


class CliLock:
    """The sqlite3 CLI holding BEGIN EXCLUSIVE on a database until release()."""

    def __init__(self, db_path):
        self.proc = subprocess.Popen(["sqlite3", "-bail", db_path], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     preexec_fn=hubtest.die_with_parent)
        # .timeout: wait out a commit of the hub's; -bail: a failed BEGIN ends
        # the session, so "locked" is printed only when the lock is held.
        self.proc.stdin.write(".timeout 10000\nBEGIN EXCLUSIVE;\nSELECT 'locked';\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if line != "locked\n":
            self.proc.kill()
            raise hubtest.HubError("sqlite3 could not lock the database: %r %s"
                                   % (line, self.proc.stderr.read()))
        self.locked_at = time.monotonic()

    def release(self):
        out, err = self.proc.communicate("COMMIT;\n", timeout=10)
        if self.proc.returncode != 0:
            raise hubtest.HubError("sqlite3 COMMIT failed (%d): %s"
                                   % (self.proc.returncode, err))

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            pipe.close()


class DiskFullTest(unittest.TestCase):
    def test_full_disk_refuses_readings_then_stores_once_space_is_freed(self):
        mnt = mount_tmpfs(self, "1m")
        hub = hubtest.start_hub(self, db=os.path.join(mnt, "hub.db"), log_level="info")
        base = hubtest.now_ms() - 3600 * 1000
        with hub.client() as c:
            c.send(b"".join(reading("full", i, base + i) for i in range(3)))
            self.assertEqual(c.read_lines(3), [{"ok": True, "seq": i} for i in range(3)])

            self.assertGreater(fill_disk(os.path.join(mnt, "filler")), 0)
            # One frame per transaction first (each waits for its ack), then a
            # pipelined burst: many failed commits, one log line.
            refused = []
            for i in range(3, 8):
                c.send(reading("full", i, base + i))
                self.assertEqual(c.read_line(),
                                 {"ok": False, "seq": i, "error": "storage full"})
                refused.append(i)
            c.send(b"".join(reading("full", i, base + i) for i in range(8, 108)))
            self.assertEqual(c.read_lines(100), [{"ok": False, "seq": i, "error": "storage full"}
                                                 for i in range(8, 108)])
            refused += range(8, 108)
            # A lock taken meanwhile is an episode of its own: the full disk
            # is not logged again when the lock goes.
            lock = CliLock(hub.db_path)
            self.addCleanup(lock.kill)
            c.send(reading("full", 108, base + 108))
            hub.wait_for_log(BUSY_LINE)
            lock.release()
            self.assertEqual(c.read_line(), {"ok": False, "seq": 108, "error": "storage full"})
            hub.wait_for_log(UNBUSY_LINE)
            refused.append(108)
            c.send(b'{"cmd":"ping"}\n')
            self.assertEqual(c.read_line(), {"ok": True, "cmd": "ping"})
            self.assertEqual(stored_seqs(hub.db_path, "full"), [0, 1, 2])
            full_lines = hub.wait_for_log_lines(FULL_LINE, 1)
            self.assertEqual(len(full_lines), 1, hub.log_text())
            self.assertIn(hub.db_path, full_lines[0])

            os.remove(os.path.join(mnt, "filler"))
            # The same frames again: stored now, and not duplicates.
            c.send(b"".join(reading("full", i, base + i) for i in refused))
            self.assertEqual(c.read_lines(len(refused)), [{"ok": True, "seq": i}
                                                          for i in refused])
        recovered = hub.wait_for_log(RECOVERED_LINE)
        self.assertEqual(RECOVERED_LINE.search(recovered).group(1), str(len(refused)))
        self.assertEqual(stored_seqs(hub.db_path, "full"), list(range(109)))
        for rx in (FULL_LINE, RECOVERED_LINE, BUSY_LINE, UNBUSY_LINE):
            self.assertEqual(len(hub.wait_for_log_lines(rx, 1)), 1, hub.log_text())
        self.assertEqual(hub.stop(), 0, hub.log_text())
        self.assertEqual(hubtest.integrity_check(hub.db_path), "ok")

    def test_readings_fill_the_disk_then_a_bigger_file_system_takes_them(self):
        mnt = mount_tmpfs(self, "1m")
        hub = hubtest.start_hub(self, db=os.path.join(mnt, "hub.db"), log_level="info")
        base = hubtest.now_ms() - 3600 * 1000
        padding = "p" * 3000  # about one database page per reading
        frames = [reading("grow", i, base + i, note=padding) for i in range(2000)]
        acks = []
        with hub.client() as c:
            step = 20
            for start in range(0, len(frames), step):
                c.send(b"".join(frames[start:start + step]))
                acks += c.read_lines(step)
                if sum(1 for a in acks if not a["ok"]) >= 50:
                    break
            for i, ack in enumerate(acks):
                self.assertIn(ack, ({"ok": True, "seq": i},
                                    {"ok": False, "seq": i, "error": "storage full"}))
            stored = [i for i, a in enumerate(acks) if a["ok"]]
            refused = [i for i, a in enumerate(acks) if not a["ok"]]
            self.assertGreater(len(stored), 20, "the file system took almost nothing")
            self.assertGreaterEqual(len(refused), 50)
            self.assertEqual(stored_seqs(hub.db_path, "grow"), stored)
            starts, ends = episodes(acks)
            self.assertEqual(len(hub.wait_for_log_lines(FULL_LINE, starts)), starts, hub.log_text())
            self.assertEqual(len(hub.wait_for_log_lines(RECOVERED_LINE, ends)), ends, hub.log_text())

            remount_tmpfs(mnt, "16m")
            c.send(b"".join(frames[i] for i in refused))
            self.assertEqual(c.read_lines(len(refused)), [{"ok": True, "seq": i}
                                                          for i in refused])
        hub.wait_for_log(RECOVERED_LINE)
        self.assertEqual(stored_seqs(hub.db_path, "grow"), list(range(len(acks))))
        self.assertEqual(len(hub.wait_for_log_lines(FULL_LINE, starts)), starts, hub.log_text())
        self.assertEqual(len(hub.wait_for_log_lines(RECOVERED_LINE, starts)), starts,
                         hub.log_text())
        self.assertEqual(hub.stop(), 0, hub.log_text())
        self.assertEqual(hubtest.integrity_check(hub.db_path), "ok")


class LockedDatabaseTest(unittest.TestCase):
    FRAMES = 20000

    def locked_for(self, seconds):
        """Holds the lock for `seconds` while a client streams FRAMES readings:
        the hub stops reading, no ack comes before the release, then every
        frame is acked ok, in order, and stored once."""
        hub = hubtest.start_hub(self, log_level="info")
        base = hubtest.now_ms() - 3600 * 1000
        with hub.client(timeout=30) as c:
            c.send(reading("locked", 0, base))
            self.assertEqual(c.read_line(), {"ok": True, "seq": 0})
            lock = CliLock(hub.db_path)
            self.addCleanup(lock.kill)
            data = b"".join(reading("locked", i, base + i) for i in range(1, self.FRAMES))
            # A small send buffer, so the frames the hub does not read stay
            # with the client instead of in the kernel.
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
            sender = hubtest.Sender(c.sock, data)
            self.addCleanup(sender.stopping.set)
            sender.start()
            busy = hub.wait_for_log(BUSY_LINE, timeout=seconds)
            self.assertIn(hub.db_path, busy)
            # Backpressure: the hub took max_unacked frames and stopped reading.
            self.assertTrue(sender.wait_stalled(0.5, seconds), "the hub took every byte")
            left = lock.locked_at + seconds - time.monotonic()
            if left > 0:
                time.sleep(left)  # the lock is held this long on purpose
            readable, _, _ = select.select([c.sock], [], [], 0)
            self.assertEqual(readable, [], "an ack came while the database was locked")
            self.assertLess(sender.sent, len(data))
            lock.release()
            acks = c.read_lines(self.FRAMES - 1, timeout=60)
            sender.join(10)
            self.assertIsNone(sender.error)
        self.assertEqual(acks, [{"ok": True, "seq": i} for i in range(1, self.FRAMES)])
        self.assertEqual(hub.query("SELECT count(*) AS n, count(DISTINCT seq) AS d "
                                   "FROM readings"), [{"n": self.FRAMES, "d": self.FRAMES}])
        hub.wait_for_log(UNBUSY_LINE)
        self.assertEqual(len(hub.wait_for_log_lines(BUSY_LINE, 1)), 1, hub.log_text())
        self.assertEqual(len(hub.wait_for_log_lines(UNBUSY_LINE, 1)), 1, hub.log_text())
        self.assertEqual(hub.log_lines_matching(r" error "), [])
        self.assertEqual(hub.stop(), 0, hub.log_text())

    def test_held_frames_keep_their_receive_time(self):
        # SCHEMA.md: recv_ms is when the hub received the reading, and a
        # frame without ts is stamped with it. Frames read in one go but held
        # back by backpressure while the database is locked were received
        # then, not when the lock went away and they were framed.
        hub = hubtest.start_hub(self, config={"max_unacked": 2}, log_level="info")
        with hub.client(timeout=30) as c:
            c.send(b'{"sensor":"warm-up","temp":1,"seq":0}\n')
            self.assertEqual(c.read_line(), {"ok": True, "seq": 0})
            lock = CliLock(hub.db_path)
            self.addCleanup(lock.kill)
            before_ms = hubtest.now_ms()
            c.send(b"".join(hubtest.frame(sensor="held", temp=20, seq=i) for i in range(1, 6)))
            sent_ms = hubtest.now_ms()
            hub.wait_for_log(BUSY_LINE, timeout=10)
            left = lock.locked_at + 2.5 - time.monotonic()
            if left > 0:
                time.sleep(left)  # the lock is held this long on purpose
            lock.release()
            self.assertEqual(c.read_lines(5), [{"ok": True, "seq": i} for i in range(1, 6)])
        rows = hub.query("SELECT seq, recv_ms, ts_ms FROM readings WHERE seq > 0 ORDER BY seq")
        self.assertEqual([r["seq"] for r in rows], [1, 2, 3, 4, 5])
        for r in rows:
            self.assertEqual(r["ts_ms"], r["recv_ms"], r)
            self.assertTrue(before_ms <= r["recv_ms"] <= sent_ms + 500,
                            "seq %d received at %d, sent between %d and %d"
                            % (r["seq"], r["recv_ms"], before_ms, sent_ms))
        self.assertEqual(hub.stop(), 0, hub.log_text())

    def test_lock_for_3_seconds(self):
        self.locked_for(3)

    def test_lock_longer_than_the_busy_timeout(self):
        self.locked_for(8)


if __name__ == "__main__":
    unittest.main()
