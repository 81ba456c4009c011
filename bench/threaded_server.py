#!/usr/bin/env python3
"""The classic way to write a sensor server, for comparison with the hub:
socketserver.ThreadingTCPServer, one thread per client, and for every line
one sqlite3 INSERT and one commit before the ack (so "ack means stored" holds,
as it does for the hub).

It uses the hub's schema file and one connection shared by the threads under
a lock (a connection per thread would add SQLITE_BUSY retries and make it
slower still). It validates nothing and does no duplicate check: it does less
than the hub. --journal wal (the default) gives it the hub's durability
settings, WAL and synchronous=FULL; --journal default leaves SQLite's own
defaults (a rollback journal, synchronous=FULL), as tutorials do, which costs
several fsyncs per commit instead of one.

    threaded_server.py --port N --db FILE --schema schema/001_initial.sql [--journal wal|default]
"""

import argparse
import json
import socketserver
import sqlite3
import threading
import time


class ReadingServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    # Enough for 1 000 sensors connecting at once (the default is 5).
    request_queue_size = 1024

    def __init__(self, address, db_path, schema_path, journal):
        super().__init__(address, ReadingHandler)
        self.lock = threading.Lock()
        self.db = sqlite3.connect(db_path, check_same_thread=False, isolation_level=None)
        if journal == "wal":
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
        if self.db.execute("PRAGMA user_version").fetchone()[0] == 0:
            with open(schema_path, encoding="utf-8") as f:
                self.db.executescript(f.read())
            self.db.execute("PRAGMA user_version=1")


class ReadingHandler(socketserver.StreamRequestHandler):
    def handle(self):
        server = self.server
        sensor_ids = {}
        for line in self.rfile:
            now_ms = int(time.time() * 1000)
            try:
                frame = json.loads(line)
                name = str(frame.get("sensor") or frame["location"])
                seq = frame.get("seq")
                with server.lock:
                    sensor_id = sensor_ids.get(name)
                    if sensor_id is None:
                        server.db.execute(
                            "INSERT OR IGNORE INTO sensors(name, location, first_seen_ms, "
                            "last_seen_ms) VALUES (?, ?, ?, ?)",
                            (name, frame.get("location"), now_ms, now_ms))
                        sensor_id = server.db.execute(
                            "SELECT id FROM sensors WHERE name = ?", (name,)).fetchone()[0]
                        sensor_ids[name] = sensor_id
                    server.db.execute("BEGIN")
                    server.db.execute(
                        "INSERT INTO readings(sensor_id, ts_ms, recv_ms, temp_c, hum_pct, seq) "
                        "VALUES (?, ?, ?, ?, ?, ?)",
                        (sensor_id, frame.get("ts", now_ms), now_ms, frame.get("temp"),
                         frame.get("hum"), seq))
                    server.db.execute("COMMIT")
                ack = {"ok": True, "seq": seq} if seq is not None else {"ok": True}
            except (ValueError, KeyError, TypeError, sqlite3.Error) as e:
                ack = {"ok": False, "error": str(e)}
            self.wfile.write(json.dumps(ack, separators=(",", ":")).encode() + b"\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--db", required=True)
    parser.add_argument("--schema", required=True)
    parser.add_argument("--journal", choices=["wal", "default"], default="wal")
    args = parser.parse_args()
    with ReadingServer(("127.0.0.1", args.port), args.db, args.schema, args.journal) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
