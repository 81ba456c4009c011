-- sensorhub schema version 1 (see SCHEMA.md: these names are the user
-- interface of the database, so they only change through a new migration).
-- The hub runs this file in one transaction and then sets user_version to 1
-- itself, so this file does not touch user_version.

-- One row per sensor, created with its first stored reading. The hub keeps
-- location at the sensor's latest known room and last_seen_ms at the receive
-- time of its latest frame.
CREATE TABLE sensors (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    location      TEXT,
    first_seen_ms INTEGER,
    last_seen_ms  INTEGER
);

-- One row per stored reading. ts_ms is the sensor's time when the frame had
-- one, else the receive time; recv_ms is always the hub's clock.
CREATE TABLE readings (
    id        INTEGER PRIMARY KEY,
    sensor_id INTEGER NOT NULL REFERENCES sensors(id),
    ts_ms     INTEGER NOT NULL,
    recv_ms   INTEGER NOT NULL,
    temp_c    REAL,
    hum_pct   REAL,
    seq       INTEGER,
    extra     TEXT
);

-- Serves the duplicate lookup (sensor_id, ts_ms) the hub makes for every
-- frame with a ts, a sensor's history in time order, and `latest`. It is not
-- UNIQUE: two frames without ts received in the same millisecond are two
-- rows, and only frames with ts are checked for duplicates. The index ends in
-- the rowid (id), so "greatest ts_ms, then greatest id" is its last entry for
-- a sensor.
CREATE INDEX readings_sensor_ts ON readings(sensor_id, ts_ms);

-- Every reading with its sensor's name and current room, oldest first.
-- time is built with integer arithmetic, whole seconds by strftime and the
-- milliseconds by ts_ms % 1000, so it is exact for every ts_ms rather than
-- depending on how a fractional Unix time rounds. ts_ms is never negative
-- (the hub refuses readings before 2000), so / and % truncate as wanted.
CREATE VIEW readings_view AS
SELECT s.name AS sensor,
       s.location AS location,
       strftime('%Y-%m-%dT%H:%M:%S', r.ts_ms / 1000, 'unixepoch')
           || printf('.%03dZ', r.ts_ms % 1000) AS time,
       r.temp_c AS temp_c,
       r.hum_pct AS hum_pct,
       r.seq AS seq,
       r.extra AS extra,
       r.ts_ms AS ts_ms,
       r.recv_ms AS recv_ms
FROM readings AS r
JOIN sensors AS s ON s.id = r.sensor_id
ORDER BY r.ts_ms, r.id;

-- Each sensor's reading with the greatest ts_ms (ties: the greatest id) and
-- its age by the reader's clock.
-- Efficiency: the correlated subquery walks readings_sensor_ts backwards for
-- one sensor and stops at its first entry, so the view costs one index probe
-- per sensor instead of a scan or GROUP BY over every reading.
-- now_ms: julianday('now') is the reader's clock in days since the Julian
-- epoch (2440587.5 is 1970-01-01); SQLite keeps 'now' in whole milliseconds
-- and fixes it for the whole statement, so every row uses the same now.
-- age_s is floor(age_ms / 1000) without SQLite's optional math functions:
-- integer division truncates toward zero, which is the floor only for
-- age_ms >= 0; a reading stamped in the future (age_ms < 0) rounds the other
-- way, e.g. -1 ms is -1 s, -1000 ms is -1 s, -1001 ms is -2 s.
CREATE VIEW latest AS
SELECT sensor,
       location,
       time,
       temp_c,
       hum_pct,
       CASE WHEN age_ms >= 0 THEN age_ms / 1000
            ELSE -((999 - age_ms) / 1000)
       END AS age_s
FROM (
    SELECT s.name AS sensor,
           s.location AS location,
           strftime('%Y-%m-%dT%H:%M:%S', r.ts_ms / 1000, 'unixepoch')
               || printf('.%03dZ', r.ts_ms % 1000) AS time,
           r.temp_c AS temp_c,
           r.hum_pct AS hum_pct,
           clock.now_ms - r.ts_ms AS age_ms
    FROM (SELECT CAST((julianday('now') - 2440587.5) * 86400000.0 + 0.5 AS INTEGER)
                     AS now_ms) AS clock,
         sensors AS s
    JOIN readings AS r
      ON r.id = (SELECT id FROM readings
                 WHERE sensor_id = s.id
                 ORDER BY ts_ms DESC, id DESC
                 LIMIT 1)
)
ORDER BY sensor;
