"""Each rule of PROTOCOL.md's reading table over the wire, rtl_433 frames
and command frames. Error texts beyond the ones PROTOCOL.md quotes are the
implementation's, so those are checked by their field-name prefix."""

import json
import time
import unittest

import hubtest
from hubtest import frame

NOW_S = lambda: int(time.time())  # noqa: E731
T0 = 1795430400  # 2026-11-23T10:40:00Z, in the past on the test machine
T0_ISO = "2026-11-23T10:40:00"


class HubCase(unittest.TestCase):
    config = None
    env = None

    def setUp(self):
        self.hub = hubtest.start_hub(self, config=self.config, env=self.env)
        self.conn = self.hub.client()
        self.addCleanup(self.conn.close)

    def ack(self, data):
        """Sends one frame (dict or bytes) and returns its parsed ack."""
        self.conn.send(frame(**data) if isinstance(data, dict) else data)
        return self.conn.read_line()

    def assert_ok(self, data, **expect):
        got = self.ack(data)
        want = {"ok": True}
        want.update(expect)
        self.assertEqual(got, want, "frame %r" % (data,))

    def assert_refused(self, data, prefix, seq=None):
        """The frame gets an error ack naming the field (and seq when valid)
        and stores nothing."""
        before = self.count()
        got = self.ack(data)
        self.assertIs(got.get("ok"), False, "frame %r -> %r" % (data, got))
        self.assertTrue(got.get("error", "").startswith(prefix),
                        "frame %r -> %r, expected an error starting %r" % (data, got, prefix))
        if seq is None:
            self.assertNotIn("seq", got)
        else:
            self.assertEqual(got.get("seq"), seq)
        self.assertEqual(set(got) - {"ok", "error", "seq"}, set(), got)
        self.assertEqual(self.count(), before, "refused frame %r was stored" % (data,))
        return got

    def count(self):
        return self.hub.query("SELECT count(*) AS n FROM readings")[0]["n"]

    def last(self):
        rows = self.hub.query(
            "SELECT s.name, s.location, r.ts_ms, r.recv_ms, r.temp_c, r.hum_pct, r.seq, r.extra "
            "FROM readings r JOIN sensors s ON s.id = r.sensor_id ORDER BY r.id DESC LIMIT 1")
        return rows[0] if rows else None

    def sensor_location(self, name):
        rows = self.hub.query("SELECT location FROM sensors WHERE name = ?", (name,))
        self.assertEqual(len(rows), 1, "sensor %r" % name)
        return rows[0]["location"]


class SensorAndLocationTest(HubCase):
    def test_sensor_charset_and_length(self):
        for name in ("lr-1", "A.b_c:d-9", "x", "s" * 64, "0x00158d00036c1821"):
            with self.subTest(sensor=name):
                self.assert_ok({"sensor": name, "temp": 20})
                self.assertEqual(self.last()["name"], name)
        for bad in ("", "s" * 65, "has space", "k\u00fcche", "a/b", "a\"b", "tab\t", 5,
                    ["x"], {"a": 1}, True):
            with self.subTest(sensor=bad):
                self.assert_refused({"sensor": bad, "temp": 20, "seq": 3}, "sensor:", seq=3)

    def test_location_rules(self):
        for loc in ("living_room", "Living Room \u2603", "\u00fc" * 64, "x"):
            with self.subTest(location=loc):
                self.assert_ok({"location": loc, "temp": 20})
                row = self.last()
                # Without sensor, the name is the location as sent.
                self.assertEqual(row["name"], loc)
                self.assertEqual(row["location"], loc)
        for bad in ("", "\u00fc" * 65, "l" * 65, 7, ["x"]):
            with self.subTest(location=bad):
                self.assert_refused({"location": bad, "temp": 20, "seq": 4}, "location:", seq=4)
        # A sensor with a location of any characters.
        self.assert_ok({"sensor": "s1", "location": "Bad/Room \"1\"", "hum": 40})
        self.assertEqual(self.sensor_location("s1"), 'Bad/Room "1"')

    def test_needs_a_name_and_a_value(self):
        for data in ({"temp": 20}, {"hum": 20, "seq": 1}, {"location": "a"},
                     {"sensor": "s", "seq": 2}, {"sensor": "s", "ts": T0}):
            with self.subTest(frame=data):
                got = self.ack(data)
                self.assertIs(got["ok"], False, got)
                self.assertTrue(got.get("error"), got)
                if "seq" in data:
                    self.assertEqual(got.get("seq"), data["seq"])
                else:
                    self.assertNotIn("seq", got)
        self.assertEqual(self.count(), 0)
        # Either value alone is enough.
        self.assert_ok({"sensor": "t-only", "temp": -3.25})
        self.assertEqual((self.last()["temp_c"], self.last()["hum_pct"]), (-3.25, None))
        self.assert_ok({"sensor": "h-only", "hum": 55.5})
        self.assertEqual((self.last()["temp_c"], self.last()["hum_pct"]), (None, 55.5))
        # A non-object frame is not a reading.
        got = self.ack(b'[1,2,3]\n')
        self.assertIs(got["ok"], False)


class ValueRangeTest(HubCase):
    def test_default_temperature_and_humidity_ranges(self):
        for temp in (-50, 100, 0, 21.125, -49.99):
            with self.subTest(temp=temp):
                self.assert_ok({"sensor": "s", "temp": temp})
                self.assertEqual(self.last()["temp_c"], float(temp))
        for temp in (100.01, -50.5, 1000, 1e308, "25", True, [1]):
            with self.subTest(temp=temp):
                self.assert_refused({"sensor": "s", "temp": temp, "seq": 9}, "temp:", seq=9)
        for hum in (0, 100, 42.5):
            with self.subTest(hum=hum):
                self.assert_ok({"sensor": "s", "hum": hum})
                self.assertEqual(self.last()["hum_pct"], float(hum))
        got = self.assert_refused({"sensor": "s", "hum": 140, "seq": 17}, "hum:", seq=17)
        self.assertEqual(got, {"ok": False, "seq": 17,
                               "error": "hum: 140 is out of range [0, 100]"})
        for hum in (-0.5, 100.5, "60", False):
            with self.subTest(hum=hum):
                self.assert_refused({"sensor": "s", "hum": hum}, "hum:")
        # One bad value refuses the whole reading.
        self.assert_refused({"sensor": "s", "temp": 20, "hum": 101}, "hum:")
        self.assert_refused({"sensor": "s", "temp": 200, "hum": 50}, "temp:")


class ConfiguredRangeTest(HubCase):
    config = {"temp_min": -10, "temp_max": 40.5, "max_future_s": 10}

    def test_configured_temperature_range(self):
        for temp in (-10, 40.5, 0):
            with self.subTest(temp=temp):
                self.assert_ok({"sensor": "s", "temp": temp})
        for temp in (-10.5, 41, 100, -50):
            with self.subTest(temp=temp):
                self.assert_refused({"sensor": "s", "temp": temp}, "temp:")

    def test_configured_future_limit(self):
        self.assert_ok({"sensor": "s", "temp": 1, "ts": NOW_S() + 5})
        self.assert_refused({"sensor": "s", "temp": 1, "ts": NOW_S() + 60}, "ts:")


class TimestampTest(HubCase):
    def stored_ts(self, ts, sensor="clock"):
        self.assert_ok({"sensor": sensor, "temp": 20, "ts": ts})
        return self.last()["ts_ms"]

    def test_ts_forms(self):
        cases = [
            (T0, T0 * 1000),
            (T0 + 1, (T0 + 1) * 1000),
            (T0 + 2.5, (T0 + 2) * 1000 + 500),
            (T0 + 3.1234, (T0 + 3) * 1000 + 123),
            (T0 + 4.0006, (T0 + 4) * 1000 + 1),       # rounded to the ms
            ((T0 + 5) * 1000 + 321, (T0 + 5) * 1000 + 321),  # Unix ms
            (T0_ISO.replace("10:40:00", "10:40:06") + "Z", (T0 + 6) * 1000),
            (T0_ISO.replace("10:40:00", "10:40:07") + ".250Z", (T0 + 7) * 1000 + 250),
            ("2026-11-23T18:40:08+08:00", (T0 + 8) * 1000),
            ("2026-11-23T05:10:09-05:30", (T0 + 9) * 1000),
            ("2000-01-01T00:00:00Z", 946684800000),
            ("2026-11-23T10:40:10.0006Z", (T0 + 10) * 1000 + 1),   # rounded to the ms
            ("2026-11-23T10:40:11.0004Z", (T0 + 11) * 1000),
            ("2026-11-23T10:40:12.999999Z", (T0 + 13) * 1000),
            ((T0 + 14) * 1000 + 0.6, (T0 + 14) * 1000 + 1),      # ms with a fraction
            ((T0 + 15) * 1000 + 0.4, (T0 + 15) * 1000),
            (946684800, 946684800000),
        ]
        for i, (ts, want) in enumerate(cases):
            with self.subTest(ts=ts):
                self.assertEqual(self.stored_ts(ts, "clock-%d" % i), want)

    def test_no_ts_is_receive_time_and_never_a_duplicate(self):
        for _ in range(3):
            self.assert_ok({"sensor": "now", "temp": 20})
            row = self.last()
            self.assertEqual(row["ts_ms"], row["recv_ms"])
            self.assertLess(abs(row["recv_ms"] - hubtest.now_ms()), 10000)
        self.assertEqual(self.count(), 3)

    def test_duplicates_in_one_send_and_across_connections(self):
        # Frames that may share one store transaction still dedupe.
        f = frame(sensor="b", temp=1, ts=T0, seq=1)
        self.conn.send(f + f + f + frame(sensor="b", temp=1, ts=T0 * 1000, seq=2))
        self.assertEqual(self.conn.read_lines(4), [
            {"ok": True, "seq": 1}, {"ok": True, "seq": 1, "dup": True},
            {"ok": True, "seq": 1, "dup": True}, {"ok": True, "seq": 2, "dup": True}])
        # The same 500 readings from two connections at once: stored once.
        burst = b"".join(frame(sensor="twice", temp=1, ts=T0 + i, seq=i) for i in range(500))
        with self.hub.client() as a, self.hub.client() as b:
            a.send(burst)
            b.send(burst)
            acks_a, acks_b = a.read_lines(500), b.read_lines(500)
        for i in range(500):
            self.assertEqual({acks_a[i].get("dup", False), acks_b[i].get("dup", False)},
                             {False, True}, "reading %d: %r %r" % (i, acks_a[i], acks_b[i]))
        rows = self.hub.query("SELECT count(*) AS n, count(DISTINCT ts_ms) AS d FROM readings r "
                              "JOIN sensors s ON s.id = r.sensor_id WHERE s.name = 'twice'")
        self.assertEqual(rows, [{"n": 500, "d": 500}])

    def test_duplicate_of_a_receive_time_row(self):
        # "however that row's ts_ms was set": a ts equal to a row stamped
        # with its receive time is a duplicate.
        self.assert_ok({"sensor": "rt", "temp": 20})
        ts_ms = self.last()["ts_ms"]
        self.assert_ok({"sensor": "rt", "temp": 21, "ts": ts_ms, "seq": 1}, seq=1, dup=True)
        self.assertEqual(self.count(), 1)

    def test_bad_ts(self):
        now = NOW_S()
        for ts in ("2026-11-23T10:00:00",        # no offset
                   "2026-11-23 10:00:00",
                   "2026-02-30T00:00:00Z",       # no such day
                   "2026-11-23T24:00:00Z",
                   "2026-11-23T10:00:00+25:00",
                   " 2026-11-23T10:00:00Z",
                   "yesterday", "", "1795430400x", True, [T0], {"s": T0},
                   946684799,                    # before 2000
                   946684799999,                 # ms before 2000
                   "1999-12-31T23:59:59Z",
                   -1, 0,
                   now + 400,                    # beyond max_future_s 300
                   (now + 400) * 1000):
            with self.subTest(ts=ts):
                self.assert_refused({"sensor": "s", "temp": 20, "ts": ts, "seq": 5}, "ts:",
                                    seq=5)

    def test_future_within_limit(self):
        now = NOW_S()
        self.assertEqual(self.stored_ts(now + 200), (now + 200) * 1000)
        self.assertEqual(self.stored_ts((now + 250) * 1000), (now + 250) * 1000)
        # latest shows a reading stamped in the future with a negative age.
        latest = self.hub.cli_json("SELECT sensor, age_s FROM latest")
        self.assertEqual(len(latest), 1)
        self.assertIn(latest[0]["age_s"], range(-252, -245))

    def test_duplicates_by_sensor_and_ts(self):
        self.assert_ok({"sensor": "d", "temp": 20, "ts": T0, "seq": 1}, seq=1)
        # Same ts in another form, another seq: still the same reading.
        self.assert_ok({"sensor": "d", "temp": 21, "ts": T0 * 1000, "seq": 2}, seq=2, dup=True)
        self.assert_ok({"sensor": "d", "temp": 21, "ts": T0_ISO + "Z"}, dup=True)
        # Another sensor, same ts: a new reading.
        self.assert_ok({"sensor": "e", "temp": 20, "ts": T0, "seq": 1}, seq=1)
        self.assert_ok({"sensor": "d", "temp": 20, "ts": T0 + 0.001}, )
        rows = self.hub.query("SELECT s.name, r.ts_ms, r.temp_c FROM readings r JOIN sensors s "
                              "ON s.id = r.sensor_id ORDER BY r.id")
        self.assertEqual(rows, [{"name": "d", "ts_ms": T0 * 1000, "temp_c": 20.0},
                                {"name": "e", "ts_ms": T0 * 1000, "temp_c": 20.0},
                                {"name": "d", "ts_ms": T0 * 1000 + 1, "temp_c": 20.0}])
        # A duplicate that is otherwise invalid is still refused.
        self.assert_refused({"sensor": "d", "temp": 500, "ts": T0}, "temp:")


class SeqTest(HubCase):
    def test_valid_seq(self):
        for seq in (0, 1, 17, 2 ** 53 - 1):
            with self.subTest(seq=seq):
                self.assert_ok({"sensor": "s", "temp": 1, "seq": seq}, seq=seq)
                self.assertEqual(self.last()["seq"], seq)

    def test_invalid_seq_is_refused_without_seq(self):
        for raw in ('17.0', '1e3', '1E2', '1.5', '-1', '9007199254740992', '1e400', '"17"',
                    'true', '[1]', '{}', '-0.0'):
            with self.subTest(seq=raw):
                data = ('{"sensor":"s","temp":1,"seq":%s}\n' % raw).encode()
                got = self.assert_refused(data, "seq:")
                self.assertNotIn("seq", got)
        self.assertEqual(self.count(), 0)

    def test_seq_is_echoed_on_other_errors(self):
        self.assert_refused({"sensor": "s", "temp": 1, "ts": "bad", "seq": 99}, "ts:", seq=99)
        self.assert_refused({"sensor": "bad name", "temp": 1, "seq": 0}, "sensor:", seq=0)


class ExtraTest(HubCase):
    def test_extra_fields_kept_as_json(self):
        data = (b'{"sensor":"x1","battery":87,"temp":20,"rssi":-60,"note":"h\\u00e9llo \\"q\\"",'
                b'"nested":{"a":[1,2.5,null,true]},"ts":1795430400,"pressure":1013.25,'
                b'"hum":40,"seq":3,"location":"hall"}\n')
        self.assertEqual(self.ack(data), {"ok": True, "seq": 3})
        row = self.last()
        self.assertEqual(row["location"], "hall")
        self.assertEqual(json.loads(row["extra"]),
                         {"battery": 87, "rssi": -60, "note": 'h\u00e9llo "q"',
                          "nested": {"a": [1, 2.5, None, True]}, "pressure": 1013.25})
        # No extra fields: NULL, not "{}".
        self.assert_ok({"sensor": "x2", "temp": 1, "hum": 2, "ts": T0, "seq": 1,
                        "location": "l"}, seq=1)
        self.assertIsNone(self.last()["extra"])
        # Extra fields are shown by readings_view.
        view = self.hub.cli_json("SELECT extra FROM readings_view WHERE sensor = 'x1'")
        self.assertEqual(json.loads(view[0]["extra"])["pressure"], 1013.25)


class LocationResolutionTest(HubCase):
    config = {"sensors": {"0x00158d00036c1821": "bedroom", "Nexus-TH-91-2": "garden",
                          "mapped": "cellar"}}

    def test_room_from_config_map(self):
        self.assert_ok({"sensor": "0x00158d00036c1821", "temp": 20})
        self.assertEqual(self.sensor_location("0x00158d00036c1821"), "bedroom")
        view = self.hub.cli_json("SELECT sensor, location FROM latest")
        self.assertEqual(view, [{"sensor": "0x00158d00036c1821", "location": "bedroom"}])

    def test_frame_location_wins_then_map_again(self):
        self.assert_ok({"sensor": "mapped", "location": "attic", "temp": 20})
        self.assertEqual(self.sensor_location("mapped"), "attic")
        self.assert_ok({"sensor": "mapped", "temp": 21})
        self.assertEqual(self.sensor_location("mapped"), "cellar")

    def test_last_known_room_then_none(self):
        self.assert_ok({"sensor": "roamer", "temp": 20})
        self.assertIsNone(self.sensor_location("roamer"))
        self.assert_ok({"sensor": "roamer", "location": "kitchen", "temp": 20})
        self.assertEqual(self.sensor_location("roamer"), "kitchen")
        self.assert_ok({"sensor": "roamer", "temp": 22})
        self.assertEqual(self.sensor_location("roamer"), "kitchen")
        self.assert_ok({"sensor": "roamer", "location": "study", "hum": 30})
        self.assertEqual(self.sensor_location("roamer"), "study")
        # readings_view shows the current room for every past reading.
        locs = {r["location"] for r in
                self.hub.cli_json("SELECT location FROM readings_view WHERE sensor='roamer'")}
        self.assertEqual(locs, {"study"})


class Rtl433Test(HubCase):
    config = {"sensors": {"Nexus-TH-91-2": "garden"}}
    env = {"TZ": "UTC"}

    def sensor_row(self, name):
        rows = self.hub.query(
            "SELECT s.name, s.location, r.ts_ms, r.recv_ms, r.temp_c, r.hum_pct, r.extra "
            "FROM readings r JOIN sensors s ON s.id = r.sensor_id WHERE s.name = ? "
            "ORDER BY r.id DESC LIMIT 1", (name,))
        self.assertEqual(len(rows), 1, name)
        return rows[0]

    def test_nexus_example(self):
        data = (b'{"time" : "2026-11-23 10:40:00", "model" : "Nexus-TH", "id" : 91, '
                b'"channel" : 2, "battery_ok" : 1, "temperature_F" : 70.7, "humidity" : 43, '
                b'"location" : "shed"}\n')
        self.assertEqual(self.ack(data), {"ok": True})
        row = self.sensor_row("Nexus-TH-91-2")
        self.assertEqual(row["location"], "garden")
        self.assertAlmostEqual(row["temp_c"], 21.5, places=6)
        self.assertEqual(row["hum_pct"], 43.0)
        self.assertEqual(row["ts_ms"], T0 * 1000)  # local time, TZ=UTC
        extra = json.loads(row["extra"])
        self.assertEqual(extra.get("battery_ok"), 1)
        self.assertEqual(extra.get("location"), "shed")
        for mapped in ("temperature_F", "humidity", "time"):
            self.assertNotIn(mapped, extra)
        # Resent (rtl_433 repeats transmissions): a duplicate.
        self.assertEqual(self.ack(data), {"ok": True, "dup": True})
        self.assertEqual(self.count(), 1)

    def test_sensor_names(self):
        cases = [
            ({"model": "Acurite-Tower", "id": 1234, "channel": "A", "temperature_C": 20},
             "Acurite-Tower-1234-A"),
            ({"model": "Acurite-Tower", "id": 1234, "temperature_C": 20}, "Acurite-Tower-1234"),
            ({"model": "Generic-Temp", "temperature_C": 20}, "Generic-Temp"),
            ({"model": "Generic-Chan", "channel": 3, "temperature_C": 20}, "Generic-Chan-3"),
        ]
        for data, name in cases:
            with self.subTest(name=name):
                self.assert_ok(data)
                self.assertEqual(self.last()["name"], name)
                self.assertIsNone(self.last()["location"])

    def test_temperature_c_preferred_and_f_converted(self):
        self.assert_ok({"model": "M", "id": 1, "temperature_C": 10.5, "temperature_F": 99,
                        "humidity": 20})
        row = self.sensor_row("M-1")
        self.assertEqual((row["temp_c"], row["hum_pct"]), (10.5, 20.0))
        self.assert_ok({"model": "M", "id": 2, "temperature_F": 32})
        self.assertAlmostEqual(self.sensor_row("M-2")["temp_c"], 0.0, places=9)
        self.assert_ok({"model": "M", "id": 3, "temperature_F": -40})
        self.assertAlmostEqual(self.sensor_row("M-3")["temp_c"], -40.0, places=9)
        # Converted values are range-checked like temp.
        self.assert_refused({"model": "M", "id": 4, "temperature_F": 300}, "temp")
        self.assert_refused({"model": "M", "id": 5, "humidity": 140}, "hum")

    def test_time_forms(self):
        cases = [
            (str(T0), T0 * 1000),
            (T0 + 1, (T0 + 1) * 1000),
            (T0 + 2.5, (T0 + 2) * 1000 + 500),
            ("%d.25" % (T0 + 3), (T0 + 3) * 1000 + 250),
            ("2026-11-23 10:40:04", (T0 + 4) * 1000),
            ("2026-11-23T10:40:05", (T0 + 5) * 1000),
            ("2026-11-23 10:40:06.125", (T0 + 6) * 1000 + 125),
            ("2026-11-23 10:40:07Z", (T0 + 7) * 1000),
            ("2026-11-23 18:40:08+08:00", (T0 + 8) * 1000),
            ("2026-11-23 18:40:09+0800", (T0 + 9) * 1000),
        ]
        for i, (t, want) in enumerate(cases):
            with self.subTest(time=t):
                self.assert_ok({"model": "Clock", "id": i, "temperature_C": 20, "time": t})
                self.assertEqual(self.sensor_row("Clock-%d" % i)["ts_ms"], want)

    def test_relative_time_is_receive_time(self):
        self.assert_ok({"model": "Rel", "id": 1, "temperature_C": 20, "time": "@0.123456s"})
        row = self.sensor_row("Rel-1")
        self.assertEqual(row["ts_ms"], row["recv_ms"])

    def test_bad_time(self):
        for t in ("yesterday", "2026-13-01 00:00:00", "", True, [1]):
            with self.subTest(time=t):
                self.assert_refused({"model": "Bad", "id": 1, "temperature_C": 20, "time": t},
                                    "time")

    def test_model_with_cmd_is_a_command(self):
        self.assertEqual(self.ack({"cmd": "ping", "model": "Nexus-TH", "temperature_C": 1}),
                         {"ok": True, "cmd": "ping"})
        self.assertEqual(self.count(), 0)


class LocalTimeZoneTest(HubCase):
    # POSIX TZ: eight hours east of UTC, no DST, no tzdata needed.
    env = {"TZ": "XST-8"}

    def test_rtl433_time_without_offset_is_local(self):
        self.assert_ok({"model": "TZ", "id": 1, "temperature_C": 20,
                        "time": "2026-11-23 18:40:00"})
        self.assertEqual(self.last()["ts_ms"], T0 * 1000)
        # An explicit offset is used as given.
        self.assert_ok({"model": "TZ", "id": 2, "temperature_C": 20,
                        "time": "2026-11-23 10:40:00Z"})
        self.assertEqual(self.last()["ts_ms"], T0 * 1000)


class CommandTest(HubCase):
    def test_ping_echo_unknown(self):
        self.assertEqual(self.ack(b'{"cmd":"ping"}\n'), {"ok": True, "cmd": "ping"})
        for data in ("text", 42, 1.5, None, True, [1, [2]], {"k": {"v": "w"}}, "\u2603"):
            with self.subTest(data=data):
                self.assertEqual(self.ack({"cmd": "echo", "data": data}),
                                 {"ok": True, "cmd": "echo", "data": data})
        self.assertEqual(self.ack({"cmd": "reboot"}),
                         {"ok": False, "cmd": "reboot", "error": "unknown command"})
        # Command answers carry no seq, even when the frame has one.
        self.assertEqual(self.ack({"cmd": "ping", "seq": 5}), {"ok": True, "cmd": "ping"})
        # Without auth_token, hello is accepted whatever the token.
        self.assertEqual(self.ack({"cmd": "hello", "token": "anything"}),
                         {"ok": True, "cmd": "hello"})
        self.assertEqual(self.ack({"cmd": "hello"}), {"ok": True, "cmd": "hello"})
        # A command is not a reading, even with reading fields.
        self.assertEqual(self.ack({"cmd": "ping", "sensor": "s", "temp": 20}),
                         {"ok": True, "cmd": "ping"})
        self.assertEqual(self.count(), 0)

    def test_hello_token_is_ignored_without_auth_token(self):
        # "Without auth_token, hello is accepted and the token ignored",
        # whatever the token is; every answer names its cmd.
        for token in ("x", "", 5, None, {"a": 1}):
            with self.subTest(token=token):
                self.assertEqual(self.ack({"cmd": "hello", "token": token}),
                                 {"ok": True, "cmd": "hello"})

    def test_raw_answer_bytes(self):
        self.conn.send(b'{"cmd":"ping"}\n{"cmd":"echo","data":"x"}\n')
        self.assertEqual(self.conn.read_raw_line(), b'{"ok":true,"cmd":"ping"}')
        self.assertEqual(json.loads(self.conn.read_raw_line()),
                         {"ok": True, "cmd": "echo", "data": "x"})


if __name__ == "__main__":
    unittest.main()
