"""Hostile bytes inside frames (PROTOCOL.md "Frames", "Reading frame"):
invalid and overlong UTF-8, lone surrogates in \\u escapes, duplicate members,
numbers that overflow a double, negative zero, 100 000 nested brackets and a
100 MB line without a newline. Each gets one clear error ack (exact text
where PROTOCOL.md gives it, else the field-name or "invalid JSON at byte N"
prefix), nothing from it is stored, and the same connection keeps working.
test_framing.py covers the framing basics (a bad byte inside a location,
oversize frames, nesting up to a few thousand levels); these go further."""

import socket
import time
import unittest

import hubtest
from hubtest import frame

PING = b'{"cmd":"ping"}\n'
PONG = {"ok": True, "cmd": "ping"}
# The framer's nesting limit (hub/framer.h FRAMER_MAX_DEPTH): the outermost
# object is level 1, so the 512th bracket inside it is the first refused.
MAX_DEPTH = 512
HUGE_LINE_BYTES = 100 * 1024 * 1024
HUGE_LINE_CHUNK = 1024 * 1024
RSS_HEADROOM_KB = 20 * 1024


def invalid_json_at(offset):
    return "invalid JSON at byte %d" % offset


def utf8_error_offset(data):
    """Where PROTOCOL.md puts invalid UTF-8: the first byte of the ill-formed
    sequence (Python's UnicodeDecodeError.start), from the frame's '{'."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start - data.index(b"{")
    raise AssertionError("%r is valid UTF-8" % data)


class HostileInputTest(unittest.TestCase):
    def setUp(self):
        self.hub = hubtest.start_hub(self, log_level="info")
        self.c = self.hub.client()
        self.addCleanup(self.c.close)
        self.next_seq = 1000

    def count_readings(self):
        return self.hub.query("SELECT count(*) AS n FROM readings")[0]["n"]

    def refused_then_works(self, bad, error=None, prefix=None, contains=None, seq=None):
        """Sends a bad frame then a good one on the same connection: the first
        ack is the error (exactly error, or starting with prefix and holding
        contains), the second acks the good reading. Returns the error text."""
        self.next_seq += 1
        good_seq = self.next_seq
        self.c.send(bad + frame(sensor="good", temp=20, seq=good_seq))
        ack, after = self.c.read_lines(2)
        self.assertIs(ack.get("ok"), False, ack)
        if seq is None:
            self.assertNotIn("seq", ack)
        else:
            self.assertEqual(ack.get("seq"), seq, ack)
        text = ack.get("error", "")
        if error is not None:
            self.assertEqual(text, error)
        if prefix is not None:
            self.assertTrue(text.startswith(prefix), "%r does not start with %r" % (text, prefix))
        if contains is not None:
            self.assertIn(contains, text)
        self.assertEqual(after, {"ok": True, "seq": good_seq}, "the next frame after %r" % bad[:80])
        return text

    def assert_only_good_stored(self):
        rows = self.hub.query("SELECT DISTINCT s.name FROM readings r JOIN sensors s "
                              "ON s.id = r.sensor_id")
        self.assertEqual(rows, [{"name": "good"}])

    def test_invalid_utf8(self):
        cases = [
            b'{"loc\xffation":"a","temp":1}\n',              # in a member name
            b'{"location":"a","temp":1,"note":"\x80"}\n',     # stray continuation in extra
            b'{"location":"a","temp":1,"note":"\xe2\x82"}\n',  # truncated 3-byte
            b'{"location":"a","temp":1,"note":"\xf0\x9f\x98"}\n',  # truncated 4-byte
            b'{"location":"\xed\xa0\x80","temp":1}\n',        # encoded surrogate U+D800
            b'{"location":"\xf4\x90\x80\x80","temp":1}\n',    # above U+10FFFF
            b'{"location":"\xf5\x80\x80\x80","temp":1}\n',    # F5 never valid
            b'{"location":"\xfe\xff","temp":1}\n',
            b'{"location":"a\xe2\x82\xac\xe2\x28\xa1","temp":1}\n',  # after a good euro sign
        ]
        for bad in cases:
            with self.subTest(frame=bad):
                self.refused_then_works(bad, prefix=invalid_json_at(utf8_error_offset(bad)) + ": ",
                                        contains="UTF-8")
        # Outside any object: junk, one error for the line.
        self.refused_then_works(b'\xff\xfe{"location":"a","temp":1}\n',
                                error=invalid_json_at(0) + ": a frame must be a JSON object")
        self.assert_only_good_stored()

    def test_utf8_split_across_reads(self):
        self.c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        good = '{"location":"K\u00fcche \u20ac \U0001F600","temp":1,"seq":1}\n'.encode("utf-8")
        bad = b'{"location":"\xe2\x82\x41","temp":1,"seq":2}\n'
        for data in (good, bad):
            for i in range(len(data)):
                self.c.send(data[i:i + 1])
        ok, err = self.c.read_lines(2)
        self.assertEqual(ok, {"ok": True, "seq": 1})
        want = invalid_json_at(utf8_error_offset(bad)) + ": "
        self.assertTrue(err["error"].startswith(want), err)
        self.assertEqual(self.hub.query("SELECT name FROM sensors"),
                         [{"name": "K\u00fcche \u20ac \U0001F600"}])

    def test_overlong_encodings(self):
        # '/' as C0 AF, E0 80 AF, F0 80 80 AF; NUL as C0 80 (Java's "modified
        # UTF-8"). Each is reported at its first byte.
        cases = [
            b'{"location":"a\xc0\xaf","temp":1}\n',
            b'{"location":"a\xc1\xbf","temp":1}\n',
            b'{"location":"a\xe0\x80\xaf","temp":1}\n',
            b'{"location":"a\xe0\x9f\xbf","temp":1}\n',
            b'{"location":"a\xf0\x80\x80\xaf","temp":1}\n',
            b'{"location":"a\xf0\x8f\xbf\xbf","temp":1}\n',
            b'{"location":"a\xc0\x80","temp":1}\n',
            b'{"\xc0\xaf":1,"location":"a","temp":1}\n',
        ]
        for bad in cases:
            with self.subTest(frame=bad):
                self.refused_then_works(bad, prefix=invalid_json_at(utf8_error_offset(bad)) + ": ",
                                        contains="UTF-8")
        self.assert_only_good_stored()

    def test_lone_surrogates_in_escapes(self):
        # (frame, offset of the byte that makes the escape invalid)
        cases = [
            (b'{"location":"a\\uD800","temp":1}\n', 20),          # high, then the string ends
            (b'{"location":"a\\uDBFFx","temp":1}\n', 20),         # high, then a plain char
            (b'{"location":"a\\uD800\\n","temp":1}\n', 21),       # high, then another escape
            (b'{"location":"a\\uD800\\u0041","temp":1}\n', 22),   # high, then not a low one
            (b'{"location":"a\\uD800\\uDBFF","temp":1}\n', 23),   # high, then high
            (b'{"location":"a\\uD800\\uD800","temp":1}\n', 23),
            (b'{"location":"a\\uDC00","temp":1}\n', 17),          # lone low
            (b'{"location":"a\\udfff\\ud800","temp":1}\n', 17),   # inverted pair
            (b'{"\\uDFAA":0,"location":"a","temp":1}\n', 5),       # in a member name
        ]
        for bad, offset in cases:
            with self.subTest(frame=bad):
                self.refused_then_works(bad, prefix=invalid_json_at(offset) + ": ",
                                        contains="surrogate")
        # A proper pair is one character, stored as UTF-8.
        self.c.send(b'{"location":"\\uD83D\\uDE00 \\u00fc","temp":1,"seq":7}\n')
        self.assertEqual(self.c.read_line(), {"ok": True, "seq": 7})
        names = {r["name"] for r in self.hub.query("SELECT name FROM sensors")}
        self.assertEqual(names, {"good", "\U0001F600 \u00fc"})

    def test_duplicate_members(self):
        cases = [
            (b'{"sensor":"s","temp":1,"temp":2}\n', "temp: duplicate member"),
            (b'{"sensor":"s","temp":1,"sensor":"t"}\n', "sensor: duplicate member"),
            (b'{"location":"a","hum":1,"hum":1}\n', "hum: duplicate member"),
            # Keys are compared decoded: "t\u0065mp" is "temp".
            (b'{"sensor":"s","t\\u0065mp":1,"temp":2}\n', "temp: duplicate member"),
            # Members that are not reading fields must not repeat either.
            (b'{"sensor":"s","temp":1,"rssi":-60,"rssi":-61}\n', "rssi: duplicate member"),
            # More members than the pairwise check covers (hub finds these by sorting).
            (b'{"sensor":"s","temp":1,' + b"".join(b'"k%d":%d,' % (i, i) for i in range(40)) +
             b'"k7":0}\n', "k7: duplicate member"),
        ]
        for bad, error in cases:
            with self.subTest(frame=bad[:60]):
                self.refused_then_works(bad, error=error)
        self.assert_only_good_stored()

    def test_duplicate_member_ack_keeps_the_valid_seq(self):
        # PROTOCOL.md: seq is in every ack for a reading, error or not,
        # whenever the frame had a valid seq; a repeated temp does not make
        # the one seq invalid.
        self.refused_then_works(b'{"sensor":"s","temp":1,"temp":2,"seq":5}\n',
                                error="temp: duplicate member", seq=5)
        # A repeated seq is not a valid seq: no seq in the ack.
        self.refused_then_works(b'{"sensor":"s","temp":1,"seq":5,"seq":6}\n',
                                error="seq: duplicate member")

    def test_duplicate_member_answer_names_the_cmd(self):
        # PROTOCOL.md "Command frames": every answer carries the cmd it
        # answers, a refusal too.
        self.c.send(b'{"cmd":"ping","x":1,"x":2}\n' + PING)
        self.assertEqual(self.c.read_lines(2), [
            {"ok": False, "cmd": "ping", "error": "x: duplicate member"}, PONG])

    def test_numbers_beyond_a_double(self):
        self.refused_then_works(b'{"sensor":"s","temp":1e400,"seq":3}\n',
                                error="temp: must be a finite number", seq=3)
        self.refused_then_works(b'{"sensor":"s","temp":-1e400,"seq":4}\n',
                                error="temp: must be a finite number", seq=4)
        self.refused_then_works(b'{"sensor":"s","temp":' + b"9" * 400 + b',"seq":5}\n',
                                error="temp: must be a finite number", seq=5)
        self.refused_then_works(b'{"sensor":"s","hum":1E+400,"seq":6}\n', prefix="hum: ", seq=6)
        self.refused_then_works(b'{"sensor":"s","temp":1,"ts":1e400,"seq":7}\n', prefix="ts: ",
                                seq=7)
        # A seq that overflows is no valid seq: refused, its ack without seq.
        self.refused_then_works(b'{"sensor":"s","temp":1,"seq":1e400}\n', prefix="seq: ")
        self.refused_then_works(b'{"sensor":"s","temp":1,"seq":' + b"9" * 30 + b'}\n',
                                prefix="seq: ")
        self.assert_only_good_stored()
        # Underflow is not an error: 1e-400 reads as 0.
        self.c.send(b'{"sensor":"tiny","temp":1e-400,"seq":8}\n')
        self.assertEqual(self.c.read_line(), {"ok": True, "seq": 8})
        self.assertEqual(self.hub.query("SELECT r.temp_c FROM readings r JOIN sensors s "
                                        "ON s.id = r.sensor_id WHERE s.name = 'tiny'"),
                         [{"temp_c": 0.0}])

    def test_negative_zero(self):
        self.c.send(b'{"sensor":"z1","temp":-0,"seq":1}\n{"sensor":"z2","temp":-0.0,"seq":2}\n'
                    b'{"sensor":"z3","temp":-0e5,"seq":3}\n{"sensor":"z4","hum":-0,"seq":4}\n')
        self.assertEqual(self.c.read_lines(4), [{"ok": True, "seq": i} for i in range(1, 5)])
        rows = self.hub.query("SELECT s.name, r.temp_c, r.hum_pct FROM readings r JOIN sensors s "
                              "ON s.id = r.sensor_id ORDER BY r.id")
        self.assertEqual([r["name"] for r in rows], ["z1", "z2", "z3", "z4"])
        for r in rows[:3]:
            self.assertEqual(r["temp_c"], 0.0, r)  # 0.0 or -0.0: both compare equal
        self.assertEqual(rows[3]["hum_pct"], 0.0)

    def test_100000_nested_brackets(self):
        n = 100000
        # The 512th bracket inside the object is refused (its offset is
        # len(head) + 511 brackets before it, or 511 repeats of the head).
        head = b'{"a":'
        cases = [
            (head + b"[" * n + b"]" * n + b',"location":"a","temp":1}\n',
             len(head) + MAX_DEPTH - 1),
            (head + b"[" * n + b"\n", len(head) + MAX_DEPTH - 1),
            (head + b'{"a":' * n + b"1" + b"}" * n + b',"location":"a","temp":1}\n',
             len(head) * MAX_DEPTH),
            (head + b'[{"a":' * (n // 2) + b"\n", len(head) + (MAX_DEPTH - 1) // 2 * 6 + 1),
        ]
        for max_frame_bytes in (4096, 1024 * 1024):
            hub = hubtest.start_hub(self, config={"max_frame_bytes": max_frame_bytes},
                                    log_level="info")
            with hub.client() as c:
                self.c = c
                for bad, offset in cases:
                    with self.subTest(max_frame_bytes=max_frame_bytes, frame=bad[:12]):
                        self.refused_then_works(bad, prefix=invalid_json_at(offset) + ": ",
                                                contains="nesting")
                c.send(PING)
                self.assertEqual(c.read_line(), PONG)
            self.assertTrue(hub.alive())
            self.assertEqual(hub.query("SELECT count(*) AS n FROM readings")[0]["n"], len(cases))

    def send_huge_line(self, c, head):
        """Sends head then HUGE_LINE_BYTES of filler with no newline, as fast as
        the socket takes it, sampling the hub's RSS throughout; then the
        newline and a good frame. Returns (the two acks, peak RSS in kB)."""
        filler = memoryview(b"x" * HUGE_LINE_CHUNK)
        sampler = self.hub.rss_sampler()
        try:
            c.send(head)
            for _ in range(HUGE_LINE_BYTES // HUGE_LINE_CHUNK):
                c.sock.sendall(filler)
            c.send(b'"}\n' + frame(sensor="after", temp=20, seq=1))
            acks = c.read_lines(2, timeout=60)
        finally:
            peak_kb = sampler.stop()
        return acks, peak_kb, sampler.samples

    def test_100mb_line_without_a_newline(self):
        self.hub = hubtest.start_hub(self, log_level="info", env=hubtest.SMALL_QUARANTINE_ENV)
        start_kb = self.hub.rss_kb()
        for head, error in ((b'{"sensor":"big","temp":1,"pad":"',
                             "frame longer than max_frame_bytes (4096)"),
                            (b'"', invalid_json_at(0) + ": a frame must be a JSON object")):
            with self.subTest(head=head), self.hub.client(timeout=60) as c:
                t0 = time.monotonic()
                acks, peak_kb, samples = self.send_huge_line(c, head)
                elapsed = time.monotonic() - t0
                print("\n100 MB line (%r...): %.1f s, hub RSS start %d kB, peak %d kB "
                      "(%d samples)" % (head[:8], elapsed, start_kb, peak_kb, samples))
                self.assertIs(acks[0]["ok"], False, acks[0])
                self.assertEqual(acks[0]["error"], error)
                self.assertEqual(acks[1], {"ok": True, "seq": 1})
                self.assertLess(peak_kb, start_kb + RSS_HEADROOM_KB,
                                "hub RSS went from %d kB to %d kB" % (start_kb, peak_kb))
        self.assertLess(self.hub.hwm_kb(), start_kb + RSS_HEADROOM_KB, "VmHWM")
        self.assertEqual(self.hub.query("SELECT s.name FROM readings r JOIN sensors s "
                                        "ON s.id = r.sensor_id"), [{"name": "after"}] * 2)


if __name__ == "__main__":
    unittest.main()
