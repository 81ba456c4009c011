"""JSONTestSuite's test_parsing corpus (github.com/nst/JSONTestSuite) against
the hub, one file per connection followed by a half-close, while a
well-behaved sensor keeps sending on a connection of its own.

n_ files are not JSON: each gets an error ack and nothing from it is stored.
y_ files are JSON but none is a reading: each gets an error ack saying why
(a non-object "must be a JSON object"). i_ files are up to the parser: each is
answered. Files holding only whitespace hold no frame and get no ack
(PROTOCOL.md "Frames"). The hub deliberately refuses two things RFC 8259
allows: \\u0000 escapes and objects spread over several lines.

The corpus is found through JSON_TEST_SUITE_DIR, else in
shared/testdata/JSONTestSuite/test_parsing beside the checkout
(SENSORHUB_SOURCE_DIR/..)."""

import concurrent.futures
import json
import os
import socket
import threading
import time
import unittest

import hubtest
from hubtest import frame

PING = b'{"cmd":"ping"}\n'
PONG = {"ok": True, "cmd": "ping"}
NOT_FOUND = "JSONTestSuite not found: set JSON_TEST_SUITE_DIR or put shared/ beside the checkout"
CONCURRENT_FILES = 16
FILES_PER_GOOD_READING = 20
GOOD_ACK_WITHIN_S = 1.0
GOOD_SENSOR = "json-suite-good"
# Bytes the hub skips between frames: a file of only these holds no frame.
IGNORED_BETWEEN_FRAMES = b" \t\r\n\x00"


def find_suite_dir(testcase):
    """The test_parsing directory, or skips (fails when JSON_TEST_SUITE_DIR
    names something that is not a directory: a typo should not pass as a skip)."""
    explicit = os.environ.get("JSON_TEST_SUITE_DIR")
    if explicit:
        if not os.path.isdir(explicit):
            testcase.fail("JSON_TEST_SUITE_DIR=%r is not a directory" % explicit)
        return explicit
    if hubtest.SOURCE_DIR:
        beside = os.path.join(hubtest.SOURCE_DIR, os.pardir, "shared", "testdata",
                              "JSONTestSuite", "test_parsing")
        if os.path.isdir(beside):
            return os.path.normpath(beside)
    testcase.skipTest(NOT_FOUND)
    return None


def run_file(port, data, timeout=hubtest.READ_TIMEOUT_S):
    """Sends data on a new connection, half-closes, and returns (acks parsed
    as JSON, error text or None) once the hub has closed its side."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        deadline = time.monotonic() + timeout
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        received = b""
        while True:
            sock.settimeout(max(deadline - time.monotonic(), 0.001))
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                return None, "no EOF within %.1f s (got %r)" % (timeout, received[-200:])
            except ConnectionResetError:
                return None, "connection reset (got %r)" % received[-200:]
            if not chunk:
                break
            received += chunk
    finally:
        sock.close()
    if received and not received.endswith(b"\n"):
        return None, "unterminated last line: %r" % received[-200:]
    try:
        return [json.loads(line) for line in received.split(b"\n")[:-1]], None
    except ValueError as e:
        return None, "an answer is not JSON (%s): %r" % (e, received[:300])


def is_reading(value):
    """True for a JSON value the hub could store as a reading."""
    return (isinstance(value, dict) and "cmd" not in value and
            ("sensor" in value or "location" in value or "model" in value) and
            ("temp" in value or "hum" in value or "temperature_C" in value))


class JsonTestSuiteTest(unittest.TestCase):
    def test_corpus(self):
        suite_dir = find_suite_dir(self)
        names = sorted(n for n in os.listdir(suite_dir) if n.endswith(".json"))
        self.assertTrue(any(n.startswith("n_") for n in names), "no n_ files in %s" % suite_dir)
        corpus = []
        for name in names:
            with open(os.path.join(suite_dir, name), "rb") as f:
                corpus.append((name, f.read()))

        hub = hubtest.start_hub(self, log_level="info")
        good = hub.client()
        self.addCleanup(good.close)
        results = {}
        good_latencies = []
        slots = threading.BoundedSemaphore(CONCURRENT_FILES)
        t0 = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(CONCURRENT_FILES) as pool:
            futures = {}
            for index, (name, data) in enumerate(corpus):
                if index % FILES_PER_GOOD_READING == 0:
                    seq = index // FILES_PER_GOOD_READING
                    sent = time.monotonic()
                    good.send(frame(sensor=GOOD_SENSOR, temp=21.5, hum=40, seq=seq))
                    ack = good.read_line(timeout=GOOD_ACK_WITHIN_S)
                    good_latencies.append(time.monotonic() - sent)
                    self.assertEqual(ack, {"ok": True, "seq": seq}, "while the corpus runs")
                slots.acquire()
                future = pool.submit(run_file, hub.port, data)
                future.add_done_callback(lambda _f: slots.release())
                futures[future] = name
            for future in concurrent.futures.as_completed(futures):
                results[futures[future]] = future.result()
        elapsed = time.monotonic() - t0
        print("\n%d files in %.1f s; well-behaved sensor: %d readings, slowest ack %.0f ms"
              % (len(corpus), elapsed, len(good_latencies), 1000 * max(good_latencies)))

        for name, data in corpus:
            with self.subTest(file=name):
                acks, problem = results[name]
                self.assertIsNone(problem)
                self.check_file(name, data, acks)

        # Nothing from the corpus was stored; every good reading was.
        rows = hub.query("SELECT s.name AS sensor, count(*) AS n FROM readings r "
                         "JOIN sensors s ON s.id = r.sensor_id GROUP BY s.name")
        self.assertEqual(rows, [{"sensor": GOOD_SENSOR, "n": len(good_latencies)}])
        self.assertTrue(hub.alive(), "the hub died")
        with hub.client() as c:
            c.send(PING)
            self.assertEqual(c.read_line(), PONG)
        good.close()
        self.assertEqual(hub.stop(), 0, "exit status after SIGTERM")
        self.assertEqual(hub.sanitizer_report(), "")

    def check_file(self, name, data, acks):
        if not data.strip(IGNORED_BETWEEN_FRAMES):
            self.assertEqual(acks, [], "input with no frame gets no ack")
            return
        for ack in acks:
            self.assertIsInstance(ack, dict)
            self.assertIn(ack.get("ok"), (True, False), ack)
        self.assertTrue(acks, "no answer at all")
        errors = [a for a in acks if a["ok"] is False]
        for e in errors:
            self.assertIsInstance(e.get("error"), str, e)
            self.assertTrue(e["error"], e)
        if name.startswith("i_"):
            return
        if name.startswith("n_"):
            self.assertTrue(errors, "invalid JSON got no error ack: %r" % acks)
            self.assertEqual([a for a in acks if a["ok"] is True], [],
                             "invalid JSON was acked ok")
            return
        value = json.loads(data.decode("utf-8"))
        if is_reading(value):
            self.fail("the corpus holds a reading; this test does not expect one: %r" % value)
        self.assertTrue(errors, "got no error ack: %r" % acks)
        self.assertEqual([a for a in acks if a["ok"] is True], [], "acked ok: %r" % acks)
        if not isinstance(value, dict):
            self.assertEqual(errors[0]["error"],
                             "invalid JSON at byte 0: a frame must be a JSON object")
        elif b"\n" not in data.strip() and b"\\u0000" not in data:
            # One object on one line without a NUL escape is valid JSON to
            # the hub too: the error must be about the reading, not syntax.
            self.assertEqual(len(acks), 1, acks)
            self.assertFalse(errors[0]["error"].startswith("invalid JSON"), errors[0])


if __name__ == "__main__":
    unittest.main()
