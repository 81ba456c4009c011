"""sensor-sim against a real hub: every frame acked and stored exactly once."""

import unittest

import hubtest

SENSORS = 50
COUNT = 200


class SensorSimTest(unittest.TestCase):
    def test_fifty_sensors_two_hundred_frames_each(self):
        hub = hubtest.start_hub(self, log_level="info")
        status, report, stderr = hubtest.run_sim(
            hub.port, "--sensors", SENSORS, "--count", COUNT, "--window", 8, "--rate", 0,
            timeout=120)
        self.assertEqual(status, 0, "sensor-sim failed: %s\nreport %r\nhub log:\n%s"
                         % (stderr, report, hub.log_text()))
        self.assertIsNotNone(report, "sensor-sim printed no JSON report")
        total = SENSORS * COUNT
        self.assertEqual(report["sensors"], SENSORS)
        self.assertEqual(report["sent"], total)
        self.assertEqual(report["acked"], total)
        self.assertEqual(report["refused"], 0)
        self.assertEqual(report["duplicates"], 0)
        self.assertEqual(report["unacked"], 0)
        for key in ("reconnects", "elapsed_s", "rate_per_s"):
            self.assertIn(key, report)
        lat = report["latency_ms"]
        self.assertLessEqual(lat["p50"], lat["p99"])
        self.assertLessEqual(lat["p99"], lat["max"])
        self.assertGreater(report["rate_per_s"], 0)

        self.assertEqual(hub.query("SELECT count(*) AS n FROM readings")[0]["n"], total)
        self.assertEqual(hub.query("SELECT count(*) AS n FROM sensors")[0]["n"], SENSORS)
        per_sensor = hub.query("SELECT sensor_id, count(*) AS n FROM readings "
                               "GROUP BY sensor_id")
        self.assertEqual(sorted(r["n"] for r in per_sensor), [COUNT] * SENSORS)
        self.assertEqual(len(hubtest.sqlite_cli_json(hub.db_path, "SELECT * FROM latest")),
                         SENSORS)
        self.assertEqual(hubtest.integrity_check(hub.db_path), "ok")
        self.assertEqual(hub.stop(), 0)


if __name__ == "__main__":
    unittest.main()
