"""Running out of memory (docs/LIMITS.md): a moment without memory costs the
hub what it was doing then, never its ability to serve. The hub runs with
tests/alloc_failure.c preloaded, which makes chosen allocations fail."""

import os
import unittest

import hostile
import hubtest

SHIM = os.environ.get("SENSORHUB_ALLOC_FAILURE_LIB", "")
PING = b'{"cmd":"ping"}\n'
PONG = {"ok": True, "cmd": "ping"}


@unittest.skipIf(hubtest.HUB_SANITIZED,
                 "AddressSanitizer's runtime must be loaded first, so the allocation-failure "
                 "shim cannot be preloaded into a sanitized hub")
@unittest.skipUnless(SHIM, "SENSORHUB_ALLOC_FAILURE_LIB is not set (run through ctest)")
class OutOfMemoryTest(unittest.TestCase):
    def test_accepting_resumes_after_memory_runs_out(self):
        # The first three attempts to allocate a connection's struct client
        # fail. libuv stops watching a listener while a connection it
        # announced waits to be accepted, so the hub must try again rather
        # than leave it there.
        hub = hubtest.start_hub(self, log_level="info", env={
            "LD_PRELOAD": SHIM,
            "SENSORHUB_FAIL_CALLOC": "%d:3" % hostile.CLIENT_STRUCT_BYTES})
        with hub.client() as c:
            c.send(PING)
            self.assertEqual(c.read_line(), PONG)
        line = hub.wait_for_log(r" warn  cannot accept a connection: ")
        self.assertIn("out of memory", line)
        with hub.client() as c:
            c.send(PING)
            self.assertEqual(c.read_line(), PONG)
        self.assertEqual(hub.stop(), 0)


if __name__ == "__main__":
    unittest.main()
