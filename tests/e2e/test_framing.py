"""Hostile framing over raw sockets (PROTOCOL.md "Frames"): back-to-back
objects, byte-at-a-time delivery, CRLF, padding, junk, newlines inside
objects, oversize frames, invalid UTF-8, end of input, and pipelining."""

import json
import socket
import unittest

import hubtest
from hubtest import frame

PING = b'{"cmd":"ping"}\n'
PONG = {"ok": True, "cmd": "ping"}


def assert_json_error(tc, ack, offset):
    """ack is the invalid-JSON error for byte offset (a reason may follow)."""
    tc.assertIs(ack.get("ok"), False, ack)
    tc.assertNotIn("seq", ack)
    msg = ack.get("error", "")
    want = "invalid JSON at byte %d" % offset
    tc.assertTrue(msg == want or msg.startswith(want + ": "),
                  "error %r, expected %r (optionally followed by ': reason')" % (msg, want))


class FramingTest(unittest.TestCase):
    def setUp(self):
        self.hub = hubtest.start_hub(self, config={"max_frame_bytes": 256})

    def count_readings(self):
        return self.hub.query("SELECT count(*) AS n FROM readings")[0]["n"]

    def test_back_to_back_objects(self):
        with self.hub.client() as c:
            c.send(b'{"location":"a","temp":1,"seq":1}{"location":"a","temp":2,"seq":2}'
                   b'{"location":"a","temp":3,"seq":3}\n')
            self.assertEqual(c.read_lines(3), [{"ok": True, "seq": 1}, {"ok": True, "seq": 2},
                                               {"ok": True, "seq": 3}])
            # Without any newline at all (an Arduino print() loop).
            c.send(b'{"location":"a","temp":4,"seq":4}{"location":"a","temp":5,"seq":5}')
            self.assertEqual(c.read_lines(2), [{"ok": True, "seq": 4}, {"ok": True, "seq": 5}])
        temps = [r["temp_c"] for r in self.hub.query("SELECT temp_c FROM readings ORDER BY id")]
        self.assertEqual(temps, [1.0, 2.0, 3.0, 4.0, 5.0])

    def test_braces_and_escapes_inside_strings(self):
        with self.hub.client() as c:
            c.send(b'{"location":"a{\\"}b","temp":1,"seq":1}{"location":"c}\\\\","temp":2,'
                   b'"seq":2,"meta":{"x":{"y":"}{"}}}\n')
            self.assertEqual(c.read_lines(2), [{"ok": True, "seq": 1}, {"ok": True, "seq": 2}])
        rows = self.hub.query("SELECT s.name, r.extra FROM readings r JOIN sensors s "
                              "ON s.id = r.sensor_id ORDER BY r.id")
        self.assertEqual(rows[0]["name"], 'a{"}b')
        self.assertEqual(rows[1]["name"], "c}\\")
        self.assertEqual(json.loads(rows[1]["extra"]), {"meta": {"x": {"y": "}{"}}})

    def test_one_byte_at_a_time(self):
        data = (b'{"location":"a","temp":1.5,"seq":10}\n{"location":"a","temp":2.5,"seq":11}'
                b'{"location":"a","hum":3,"seq":12}\r\n' + PING)
        with self.hub.client() as c:
            c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for i in range(len(data)):
                c.send(data[i:i + 1])
            self.assertEqual(c.read_lines(4), [{"ok": True, "seq": 10}, {"ok": True, "seq": 11},
                                               {"ok": True, "seq": 12}, PONG])
        self.assertEqual(self.count_readings(), 3)

    def test_crlf(self):
        with self.hub.client() as c:
            c.send(b'{"location":"a","temp":1,"seq":1}\r\n{"location":"a","temp":2,"seq":2}\r\n'
                   b'{"cmd":"ping"}\r\n')
            self.assertEqual(c.read_lines(3), [{"ok": True, "seq": 1}, {"ok": True, "seq": 2},
                                               PONG])
            c.shutdown_write()
            self.assertEqual(c.read_until_eof(), [])

    def test_nul_and_whitespace_padding(self):
        with self.hub.client() as c:
            c.send(b'\x00\x00 \t\r\n{"location":"a","temp":1,"seq":1}\x00\n\x00  \r\n\n'
                   b'   {"location":"a","temp":2,"seq":2}  \x00\x00\x00' + PING)
            self.assertEqual(c.read_lines(3), [{"ok": True, "seq": 1}, {"ok": True, "seq": 2},
                                               PONG])
            c.shutdown_write()
            self.assertEqual(c.read_until_eof(), [])

    def test_whitespace_only_input_gets_no_ack(self):
        with self.hub.client() as c:
            c.send(b'\n\n   \r\n\t\x00\x00\n \x00')
            c.send(PING)
            self.assertEqual(c.read_line(), PONG)
        with self.hub.client() as c:
            c.send(b' \n\x00\r\n\t ')
            c.shutdown_write()
            self.assertEqual(c.read_until_eof(), [])
        self.assertEqual(self.count_readings(), 0)

    def test_junk_before_a_frame_is_one_error_and_discards_the_line(self):
        with self.hub.client() as c:
            c.send(b'hello world {"location":"a","temp":1,"seq":1} more junk }}}\n'
                   b'{"location":"a","temp":2,"seq":2}\n')
            acks = c.read_lines(2)
            assert_json_error(self, acks[0], 0)
            self.assertEqual(acks[1], {"ok": True, "seq": 2})
            # Junk sent in pieces is still one run, one error.
            c.send(b'xx')
            c.send(b'yy{"location":"a",')
            c.send(b'"temp":3}zz\n' + PING)
            acks = c.read_lines(2)
            assert_json_error(self, acks[0], 0)
            self.assertEqual(acks[1], PONG)
            # Junk after a complete frame on the same line.
            c.send(b'{"location":"a","temp":4,"seq":4} garbage\n' + PING)
            acks = c.read_lines(3)
            self.assertEqual(acks[0], {"ok": True, "seq": 4})
            assert_json_error(self, acks[1], 0)
            self.assertEqual(acks[2], PONG)
        temps = [r["temp_c"] for r in self.hub.query("SELECT temp_c FROM readings ORDER BY id")]
        self.assertEqual(temps, [2.0, 4.0])

    def test_newline_inside_an_object(self):
        with self.hub.client() as c:
            # A lost "}" costs one frame, not the next.
            lost = b'{"location":"a","temp":1'
            c.send(lost + b'\n{"location":"a","temp":2,"seq":2}\n')
            acks = c.read_lines(2)
            assert_json_error(self, acks[0], len(lost))
            self.assertEqual(acks[1], {"ok": True, "seq": 2})
            # Pretty-printed JSON: the first line's newline is the error; the
            # rest of the object is then bytes outside an object (junk).
            first = b'{"location":"a",'
            c.send(first + b'\n"temp":3}\n' + PING)
            acks = c.read_lines(3)
            assert_json_error(self, acks[0], len(first))
            assert_json_error(self, acks[1], 0)
            self.assertEqual(acks[2], PONG)
            # A newline inside a string is a newline too.
            first = b'{"location":"a\n'
            c.send(first + b'{"location":"a","temp":5,"seq":5}\n')
            acks = c.read_lines(2)
            assert_json_error(self, acks[0], len(first) - 1)
            self.assertEqual(acks[1], {"ok": True, "seq": 5})
        self.assertEqual(self.count_readings(), 2)

    def test_oversize_frame_then_resync(self):
        big = b'{"location":"a","temp":1,"pad":"' + b"x" * 10000 + b'"}\n'
        with self.hub.client() as c:
            c.send(b'{"location":"a","temp":0,"seq":1}\n' + big +
                   b'{"location":"a","temp":2,"seq":2}\n')
            acks = c.read_lines(3)
            self.assertEqual(acks[0], {"ok": True, "seq": 1})
            self.assertIs(acks[1]["ok"], False)
            self.assertTrue(acks[1].get("error"), acks[1])
            self.assertEqual(acks[2], {"ok": True, "seq": 2})
            # Oversize back-to-back objects on one line: one error for the
            # run up to the newline, then the next line works.
            c.send(b'{"location":"a","temp":1,"pad":"' + b"y" * 300 + b'"}'
                   b'{"location":"a","temp":9,"seq":9}\n{"location":"a","temp":3,"seq":3}\n')
            acks = c.read_lines(2)
            self.assertIs(acks[0]["ok"], False)
            self.assertEqual(acks[1], {"ok": True, "seq": 3})
            # A frame within the limit is fine.
            c.send(b'{"location":"a","temp":4,"seq":4,"pad":"' + b"z" * 150 + b'"}\n')
            self.assertEqual(c.read_line(), {"ok": True, "seq": 4})
        temps = [r["temp_c"] for r in self.hub.query("SELECT temp_c FROM readings ORDER BY id")]
        self.assertEqual(temps, [0.0, 2.0, 3.0, 4.0])

    def test_frame_size_boundary(self):
        def sized(n, seq):
            head = b'{"location":"a","temp":1,"seq":%d,"p":"' % seq
            return head + b"x" * (n - len(head) - 2) + b'"}'
        with self.hub.client() as c:
            # max_frame_bytes counts the object, not its line ending.
            c.send(sized(256, 1) + b"\n" + sized(256, 2) + b"\r\n" + sized(257, 3) + b"\n" +
                   sized(256, 4) + sized(256, 5) + b"\n")
            acks = c.read_lines(5)
        self.assertEqual(acks[:2], [{"ok": True, "seq": 1}, {"ok": True, "seq": 2}])
        self.assertIs(acks[2]["ok"], False)
        self.assertNotIn("seq", acks[2])
        self.assertEqual(acks[3:], [{"ok": True, "seq": 4}, {"ok": True, "seq": 5}])

    def test_huge_line_is_not_buffered(self):
        self.hub = hubtest.start_hub(self, config={"max_frame_bytes": 256},
                                     env=hubtest.SMALL_QUARANTINE_ENV)
        rss_before = self.hub.rss_kb()
        chunk = b"q" * 65536
        with self.hub.client() as c:
            c.send(b'{"location":"a","temp":1,"pad":"')
            for _ in range(256):  # 16 MiB inside one frame
                c.send(chunk)
            c.send(b'"}\n{"location":"a","temp":2,"seq":2}\n')
            acks = c.read_lines(2, timeout=30)
            self.assertIs(acks[0]["ok"], False)
            self.assertEqual(acks[1], {"ok": True, "seq": 2})
        grew_kb = self.hub.rss_kb() - rss_before
        self.assertLess(grew_kb, 8 * 1024, "RSS grew by %d kB for one 16 MiB line" % grew_kb)

    def test_invalid_utf8_inside_a_string(self):
        with self.hub.client() as c:
            # The offset is that of the first byte of the ill-formed sequence,
            # as Python's own decoder reports it (UnicodeDecodeError.start).
            for bad in (b"\xff", b"\x80", b"\xc0\xaf", b"\xe9", b"\xe2\x82", b"\xed\xa0\x80",
                        b"\xf4\x90\x80\x80", b"\xe0\x80\x80"):
                with self.assertRaises(UnicodeDecodeError) as decoded:
                    bad.decode("utf-8")
                self.assertEqual(decoded.exception.start, 0)
                prefix = b'{"location":"ab'
                c.send(prefix + bad + b'","temp":1}\n{"location":"a","temp":2,"seq":7}\n')
                acks = c.read_lines(2)
                assert_json_error(self, acks[0], len(prefix))
                self.assertEqual(acks[1], {"ok": True, "seq": 7})
            # Valid multi-byte UTF-8 is fine.
            c.send('{"location":"Küche ☃","temp":1,"seq":8}\n'.encode("utf-8"))
            self.assertEqual(c.read_line(), {"ok": True, "seq": 8})
        names = {r["name"] for r in self.hub.query("SELECT name FROM sensors")}
        self.assertEqual(names, {"a", "Küche ☃"})

    def test_junk_then_half_close(self):
        with self.hub.client() as c:
            c.send(b'{"location":"a","temp":1,"seq":1}} trailing')
            c.shutdown_write()
            acks = c.read_until_eof()
        self.assertEqual(len(acks), 2, acks)
        self.assertEqual(acks[0], {"ok": True, "seq": 1})
        assert_json_error(self, acks[1], 0)

    def test_incomplete_frame_then_half_close(self):
        with self.hub.client() as c:
            c.send(b'{"location":"a","temp":1,"seq":1}\n{"location":"a","temp":2,"seq":2}'
                   b'{"location":"a","te')
            c.shutdown_write()
            acks = c.read_until_eof()
        self.assertEqual(acks, [{"ok": True, "seq": 1}, {"ok": True, "seq": 2},
                                {"ok": False, "error": "incomplete frame at end of input"}])
        self.assertEqual(self.count_readings(), 2)

    def test_complete_frames_then_half_close(self):
        with self.hub.client() as c:
            c.send(b''.join(frame(location="a", temp=20, seq=i) for i in range(50)))
            c.shutdown_write()
            acks = c.read_until_eof()
        self.assertEqual(acks, [{"ok": True, "seq": i} for i in range(50)])
        self.assertEqual(self.count_readings(), 50)

    def test_pipelined_frames_then_immediate_half_close(self):
        with self.hub.client() as c:
            c.send(b"".join(frame(sensor="hc", temp=20, ts=1795430400 + i, seq=i)
                            for i in range(2000)))
            c.shutdown_write()
            acks = c.read_until_eof(timeout=30)
        self.assertEqual(acks, [{"ok": True, "seq": i} for i in range(2000)])
        self.assertEqual(self.count_readings(), 2000)

    def test_deep_nesting_is_one_error(self):
        hub = hubtest.start_hub(self)  # default max_frame_bytes 4096
        with hub.client() as c:
            c.send(b'{"a":' + b"[" * 1900 + b"]" * 1900 + b',"location":"deep","temp":1}\n')
            c.send(b'{"a":' + b'{"b":' * 600 + b"1" + b"}" * 600 + b',"location":"d","temp":1}\n')
            c.send(PING)
            acks = c.read_lines(3)
        for ack in acks[:2]:
            self.assertIs(ack["ok"], False, ack)
            self.assertTrue(ack["error"].startswith("invalid JSON at byte "), ack)
        self.assertEqual(acks[2], PONG)
        self.assertTrue(hub.alive())

    def test_answers_keep_order_with_pending_readings(self):
        data = b"".join(frame(sensor="o", temp=20, seq=i) + PING for i in range(500))
        with self.hub.client() as c:
            c.send(data)
            acks = c.read_lines(1000, timeout=30)
        want = []
        for i in range(500):
            want += [{"ok": True, "seq": i}, PONG]
        self.assertEqual(acks, want)

    def test_many_frames_in_one_send(self):
        data = b"".join(frame(sensor="bulk-%d" % (i % 7), temp=20 + i % 10, hum=50,
                              ts=1795430400 + i, seq=i) for i in range(1000))
        with self.hub.client() as c:
            c.send(data)
            acks = c.read_lines(1000, timeout=30)
        self.assertEqual(acks, [{"ok": True, "seq": i} for i in range(1000)])
        self.assertEqual(self.count_readings(), 1000)
        seqs = [r["seq"] for r in self.hub.query("SELECT seq FROM readings ORDER BY id")]
        self.assertEqual(seqs, list(range(1000)))

    def test_mixed_valid_and_invalid_frames_in_order(self):
        data = (b'{"location":"a","temp":1,"seq":1}\n'
                b'{"location":"a","hum":140,"seq":2}\n'
                b'junk\n'
                b'{"cmd":"echo","data":[1,"two",{"three":3}]}\n'
                b'{"location":"a","temp":2,"seq":3}'
                b'{"a":}\n'
                b'{"cmd":"nope"}\n'
                b'{"location":"a","temp":3,"seq":4}\n')
        with self.hub.client() as c:
            c.send(data)
            acks = c.read_lines(8)
        self.assertEqual(acks[0], {"ok": True, "seq": 1})
        self.assertEqual(acks[1], {"ok": False, "seq": 2,
                                   "error": "hum: 140 is out of range [0, 100]"})
        assert_json_error(self, acks[2], 0)
        self.assertEqual(acks[3], {"ok": True, "cmd": "echo", "data": [1, "two", {"three": 3}]})
        self.assertEqual(acks[4], {"ok": True, "seq": 3})
        assert_json_error(self, acks[5], 5)
        self.assertEqual(acks[6], {"ok": False, "cmd": "nope", "error": "unknown command"})
        self.assertEqual(acks[7], {"ok": True, "seq": 4})
        self.assertEqual(self.count_readings(), 3)


if __name__ == "__main__":
    unittest.main()
