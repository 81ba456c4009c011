"""Starting up: flags, config file errors (exit 2, `FILE: KEY: ...`), database
refusals (exit 1, the user's file untouched), the new file's mode and WAL."""

import os
import shutil
import signal
import socket
import sqlite3
import stat
import tempfile
import unittest

import hubtest


class StartupTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="sensorhub-e2e-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.db = os.path.join(self.dir, "hub.db")

    def run_with_config(self, config, name="hub.json"):
        path = os.path.join(self.dir, name)
        hubtest.write_config(path, config)
        proc = hubtest.run_hub_once(["--config", path, "--listen", "tcp://127.0.0.1:0",
                                     "--db", self.db])
        return path, proc

    def assert_config_error(self, config, key):
        path, proc = self.run_with_config(config)
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("%s: %s: " % (path, key), proc.stderr)
        self.assertFalse(os.path.exists(self.db), "a config error still created the database")
        return proc

    def test_unknown_key(self):
        self.assert_config_error({"listen_port": 8080}, "listen_port")
        # Keys of features not built yet are unknown keys too.
        self.assert_config_error({"retention_days": 30}, "retention_days")

    def test_wrong_types(self):
        self.assert_config_error({"max_connections": "many"}, "max_connections")
        self.assert_config_error({"auth_token": 5}, "auth_token")
        self.assert_config_error({"allowed_sources": "10.0.0.0/8"}, "allowed_sources")
        self.assert_config_error({"sensors": ["a"]}, "sensors")
        self.assert_config_error({"temp_min": "cold"}, "temp_min")
        self.assert_config_error({"idle_timeout_s": 1.5}, "idle_timeout_s")

    def test_nested_keys_and_relations(self):
        self.assert_config_error({"sensors": {"0x00158d00036c1821": 5}},
                                 "sensors.0x00158d00036c1821")
        self.assert_config_error({"sensors": {"garden-1": ""}}, "sensors.garden-1")
        path, proc = self.run_with_config({"temp_min": 50, "temp_max": 10})
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertRegex(proc.stderr, "%s: temp_m(in|ax): " % path)
        # A key given twice is an error, not "the last one wins".
        self.assert_config_error('{"max_connections": 3, "max_connections": 4}',
                                 "max_connections")

    def test_out_of_range_values(self):
        self.assert_config_error({"idle_timeout_s": 0}, "idle_timeout_s")
        self.assert_config_error({"max_connections": -1}, "max_connections")
        self.assert_config_error({"log_level": "loud"}, "log_level")
        self.assert_config_error({"allowed_sources": ["10.0.0.0/33"]}, "allowed_sources")

    def test_syntax_error_and_missing_file(self):
        path, proc = self.run_with_config('{"max_connections": 3,,}')
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn(path + ":", proc.stderr)
        missing = os.path.join(self.dir, "nope.json")
        proc = hubtest.run_hub_once(["--config", missing, "--listen", "tcp://127.0.0.1:0",
                                     "--db", self.db])
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn(missing, proc.stderr)

    def test_bad_flags(self):
        for args in (["--no-such-flag"], ["--log-level", "loud"], ["--port", "70000"],
                     ["--port", "x"], ["--config"]):
            with self.subTest(args=args):
                proc = hubtest.run_hub_once(["--listen", "tcp://127.0.0.1:0", "--db", self.db] +
                                            args)
                self.assertEqual(proc.returncode, 2, proc.stderr)
                self.assertTrue(proc.stderr.strip())
        self.assertFalse(os.path.exists(self.db))

    def test_comments_allowed_and_flags_override_the_file(self):
        text = """// sensorhub test config
        {
          /* the flags given by the test override these two */
          "listen": "tcp://127.0.0.1:1",
          "db": "/nonexistent/dir/hub.db",
          "max_connections": 7, // trailing comment
          "sensors": {"a": "b"}
        }
        """
        hub = hubtest.start_hub(self, config=text)
        self.assertEqual(hub.db_path, os.path.join(hub.tmpdir, "hub.db"))
        with hub.client() as c:
            c.send(b'{"cmd":"ping"}\n')
            self.assertEqual(c.read_line(), {"ok": True, "cmd": "ping"})
        self.assertTrue(os.path.exists(hub.db_path))

    def test_help_and_version(self):
        proc = hubtest.run_hub_once(["--help"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("--config", proc.stdout)
        self.assertIn("--listen", proc.stdout)
        proc = hubtest.run_hub_once(["--version"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertRegex(proc.stdout, r"\d+\.\d+")

    def test_text_file_as_database_is_refused_untouched(self):
        content = b"my shopping list\nmilk\neggs\n" * 100
        with open(self.db, "wb") as f:
            f.write(content)
        proc = hubtest.run_hub_once(["--listen", "tcp://127.0.0.1:0", "--db", self.db])
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn(self.db, proc.stderr)
        with open(self.db, "rb") as f:
            self.assertEqual(f.read(), content)
        self.assertEqual(sorted(os.listdir(self.dir)), ["hub.db"])

    def test_database_in_a_missing_directory(self):
        path = os.path.join(self.dir, "no-such-dir", "hub.db")
        proc = hubtest.run_hub_once(["--listen", "tcp://127.0.0.1:0", "--db", path])
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn(path, proc.stderr)
        self.assertFalse(os.path.exists(os.path.dirname(path)))

    def test_existing_database_without_schema_gets_it(self):
        conn = sqlite3.connect(self.db)
        conn.execute("CREATE TABLE my_notes (x)")
        conn.execute("INSERT INTO my_notes VALUES ('keep me')")
        conn.commit()
        conn.close()
        hub = hubtest.start_hub(self, db=self.db, log_level="info")
        self.assertEqual(hub.query("SELECT x FROM my_notes"), [{"x": "keep me"}])
        self.assertEqual(hub.query("PRAGMA user_version"), [{"user_version": 1}])
        self.assertEqual(hub.stop(), 0)

    def test_newer_schema_version_is_refused_untouched(self):
        conn = sqlite3.connect(self.db)
        conn.execute("CREATE TABLE future_things (x)")
        conn.execute("INSERT INTO future_things VALUES (42)")
        conn.execute("PRAGMA user_version = 99")
        conn.commit()
        conn.close()
        with open(self.db, "rb") as f:
            before = f.read()
        proc = hubtest.run_hub_once(["--listen", "tcp://127.0.0.1:0", "--db", self.db])
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn(self.db, proc.stderr)
        self.assertIn("99", proc.stderr)
        with open(self.db, "rb") as f:
            self.assertEqual(f.read(), before)

    def test_corrupt_database_is_refused_untouched(self):
        hub = hubtest.start_hub(self, log_level="info")
        with hub.client() as c:
            c.send(b'{"location":"a","temp":1}\n')
            self.assertEqual(c.read_line(), {"ok": True})
        self.assertEqual(hub.stop(), 0)
        # Overwrite the middle of the file with garbage (past the header).
        size = os.path.getsize(hub.db_path)
        self.assertGreater(size, 4096)
        with open(hub.db_path, "r+b") as f:
            f.seek(4096)
            f.write(b"\xa5" * (size - 4096))
        with open(hub.db_path, "rb") as f:
            before = f.read()
        proc = hubtest.run_hub_once(["--listen", "tcp://127.0.0.1:0", "--db", hub.db_path])
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn(hub.db_path, proc.stderr)
        with open(hub.db_path, "rb") as f:
            self.assertEqual(f.read(), before)

    def test_new_database_mode_wal_and_schema(self):
        old = os.umask(0o022)
        try:
            hub = hubtest.start_hub(self, log_level="info")
        finally:
            os.umask(old)
        self.assertEqual(stat.S_IMODE(os.stat(hub.db_path).st_mode), 0o640)
        out = hubtest.sqlite_cli(hub.db_path, "PRAGMA journal_mode;", "-list").strip()
        self.assertEqual(out, "wal")
        self.assertEqual(hubtest.sqlite_cli(hub.db_path, "PRAGMA user_version;", "-list").strip(),
                         "1")
        names = {r["name"] for r in hub.query(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
        self.assertTrue({"sensors", "readings", "readings_view", "latest"} <= names, names)
        self.assertEqual(hub.stop(signal.SIGINT), 0)
        # A restart on the same file keeps the data and the version.
        hub2 = hubtest.start_hub(self, db=hub.db_path, tmpdir=hub.tmpdir, log_level="info")
        with hub2.client() as c:
            c.send(b'{"location":"a","temp":1,"ts":1795430400}\n')
            self.assertEqual(c.read_line(), {"ok": True})
        self.assertEqual(hub2.stop(), 0)
        hub3 = hubtest.start_hub(self, db=hub.db_path, tmpdir=hub.tmpdir, log_level="info")
        with hub3.client() as c:
            c.send(b'{"location":"a","temp":1,"ts":1795430400}\n')
            self.assertEqual(c.read_line(), {"ok": True, "dup": True})
        self.assertEqual(hub3.stop(), 0)
        self.assertEqual(hubtest.integrity_check(hub.db_path), "ok")

    def test_ipv6_loopback(self):
        try:
            probe = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            probe.bind(("::1", 0))
            probe.close()
        except OSError:
            self.skipTest("no IPv6 loopback here")
        hub = hubtest.start_hub(self, host="::1", log_level="info")
        with hub.client() as c:
            c.send(b'{"sensor":"v6","temp":20,"seq":1}\n')
            self.assertEqual(c.read_line(), {"ok": True, "seq": 1})
        self.assertEqual(hub.stop(), 0)

    def test_ipv4_and_ipv6_wildcards_on_one_port(self):
        # config/sensorhub.json's example: ["tcp://0.0.0.0:8080",
        # "tcp://[::]:8080"]. An IPv6 listener is IPv6-only (as in nginx), so
        # both bind whatever net.ipv6.bindv6only says. Strangers are kept
        # out by allowed_sources; the test connects over loopback only.
        # The port is free on both families when probed; another test (ctest
        # runs two at once) may take it before the hub binds: then try another.
        for attempt in range(5):
            try:
                probe = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
                probe.bind(("::", 0))
                port = probe.getsockname()[1]
                probe.close()
            except OSError:
                self.skipTest("no IPv6 here")
            hub = hubtest.start_hub(
                self, config={"allowed_sources": ["127.0.0.0/8", "::1/128"]}, log_level="info",
                extra_args=["--listen", "tcp://0.0.0.0:%d" % port,
                            "--listen", "tcp://[::]:%d" % port])
            # start() saw the first endpoint's line; the other two bind after it.
            line = hub.wait_for_log(r"listening on tcp://\[::\]:%d$|cannot (bind|listen)" % port)
            if "cannot" not in line:
                break
            self.assertIn("address already in use", line)
            self.assertEqual(hub.proc.wait(timeout=10), 1)
            hub.close()
        else:
            self.fail("no port was free on both families in 5 attempts")
        for seq, host in enumerate(["127.0.0.1", "::1"], start=1):
            with hubtest.Client(port, host=host) as c:
                c.send(b'{"sensor":"dual","temp":20,"seq":%d}\n' % seq)
                self.assertEqual(c.read_line(), {"ok": True, "seq": seq})
        self.assertEqual(hub.stop(), 0)

    def test_cannot_bind_is_exit_1(self):
        holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(holder.close)
        holder.bind(("127.0.0.1", 0))
        holder.listen(1)
        port = holder.getsockname()[1]
        proc = hubtest.run_hub_once(["--listen", "tcp://127.0.0.1:%d" % port, "--db", self.db])
        self.assertEqual(proc.returncode, 1, proc.stderr)
        self.assertIn(str(port), proc.stderr)


if __name__ == "__main__":
    unittest.main()
