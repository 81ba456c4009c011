"""The seed's frame and the PROTOCOL.md example frame, end to end: wire ->
ack -> rows in readings, readings_view and latest (read with the sqlite3 CLI
the way users do)."""

import unittest

import hubtest

SEED = b'{"location":"living_room","temp":25.5,"hum":60}\n'
EXAMPLE = (b'{"sensor":"lr-1","location":"living_room","temp":25.5,"hum":60,'
           b'"ts":1795430400,"seq":17}\n')


class SeedFrameTest(unittest.TestCase):
    def setUp(self):
        self.hub = hubtest.start_hub(self)

    def test_seed_frame_is_stored_and_acked(self):
        before = hubtest.now_ms()
        with self.hub.client() as c:
            c.send(SEED)
            self.assertEqual(c.read_raw_line(), b'{"ok":true}')
        after = hubtest.now_ms()

        rows = self.hub.query(
            "SELECT s.name, s.location AS sensor_location, r.* FROM readings r "
            "JOIN sensors s ON s.id = r.sensor_id")
        self.assertEqual(len(rows), 1)
        row = rows[0]
        self.assertEqual(row["name"], "living_room")
        self.assertEqual(row["sensor_location"], "living_room")
        self.assertEqual(row["temp_c"], 25.5)
        self.assertEqual(row["hum_pct"], 60.0)
        self.assertIsInstance(row["hum_pct"], float)
        self.assertIsNone(row["seq"])
        self.assertIsNone(row["extra"])
        self.assertEqual(row["ts_ms"], row["recv_ms"])
        self.assertGreaterEqual(row["recv_ms"], before - 5)
        self.assertLessEqual(row["recv_ms"], after + 5)

        sensors = self.hub.query("SELECT * FROM sensors")
        self.assertEqual(len(sensors), 1)
        self.assertEqual(sensors[0]["name"], "living_room")
        self.assertEqual(sensors[0]["location"], "living_room")
        self.assertGreaterEqual(sensors[0]["last_seen_ms"], sensors[0]["first_seen_ms"])

        view = self.hub.cli_json("SELECT * FROM readings_view")
        self.assertEqual(len(view), 1)
        v = view[0]
        self.assertEqual(v["sensor"], "living_room")
        self.assertEqual(v["location"], "living_room")
        self.assertEqual(v["temp_c"], 25.5)
        self.assertEqual(v["hum_pct"], 60.0)
        self.assertIsNone(v["seq"])
        self.assertIsNone(v["extra"])
        self.assertEqual(v["ts_ms"], row["ts_ms"])
        self.assertEqual(v["recv_ms"], row["recv_ms"])
        self.assertEqual(v["time"], iso_ms(row["ts_ms"]))

        latest = self.hub.cli_json("SELECT * FROM latest")
        self.assertEqual(len(latest), 1)
        lt = latest[0]
        self.assertEqual(lt["sensor"], "living_room")
        self.assertEqual(lt["location"], "living_room")
        self.assertEqual(lt["time"], iso_ms(row["ts_ms"]))
        self.assertEqual(lt["temp_c"], 25.5)
        self.assertEqual(lt["hum_pct"], 60.0)
        self.assertIsInstance(lt["age_s"], int)
        self.assertGreaterEqual(lt["age_s"], 0)
        self.assertLess(lt["age_s"], 60)

        # The same frame again is a second reading (no ts: never a duplicate);
        # the sensor keeps first_seen_ms and moves last_seen_ms.
        first_seen = sensors[0]["first_seen_ms"]
        with self.hub.client() as c:
            c.send(SEED)
            self.assertEqual(c.read_raw_line(), b'{"ok":true}')
        sensors = self.hub.query("SELECT * FROM sensors")
        self.assertEqual(len(sensors), 1)
        self.assertEqual(sensors[0]["first_seen_ms"], first_seen)
        self.assertEqual(sensors[0]["last_seen_ms"],
                         self.hub.query("SELECT max(recv_ms) AS m FROM readings")[0]["m"])
        self.assertEqual(len(self.hub.query("SELECT id FROM readings")), 2)

    def test_example_frame_then_duplicate(self):
        with self.hub.client() as c:
            c.send(EXAMPLE)
            self.assertEqual(c.read_raw_line(), b'{"ok":true,"seq":17}')
            c.send(EXAMPLE)
            self.assertEqual(c.read_raw_line(), b'{"ok":true,"seq":17,"dup":true}')
        # A resend on a new connection (after a reconnect) is a duplicate too.
        with self.hub.client() as c:
            c.send(EXAMPLE)
            self.assertEqual(c.read_raw_line(), b'{"ok":true,"seq":17,"dup":true}')

        rows = self.hub.query(
            "SELECT s.name, s.location, r.ts_ms, r.temp_c, r.hum_pct, r.seq, r.extra "
            "FROM readings r JOIN sensors s ON s.id = r.sensor_id")
        self.assertEqual(rows, [{"name": "lr-1", "location": "living_room",
                                 "ts_ms": 1795430400000, "temp_c": 25.5, "hum_pct": 60.0,
                                 "seq": 17, "extra": None}])
        out = hubtest.sqlite_cli(self.hub.db_path,
                                 "SELECT sensor, location, time, seq FROM readings_view",
                                 "-csv")
        self.assertEqual(out.strip(), "lr-1,living_room,2026-11-23T10:40:00.000Z,17")


def iso_ms(ts_ms):
    import datetime
    t = datetime.datetime.fromtimestamp(ts_ms // 1000, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S") + ".%03dZ" % (ts_ms % 1000)


if __name__ == "__main__":
    unittest.main()
