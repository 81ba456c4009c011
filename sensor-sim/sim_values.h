#ifndef SENSOR_SIM_VALUES_H
#define SENSOR_SIM_VALUES_H

#include <stddef.h>
#include <stdint.h>

/* The fake readings: believable temperature and humidity for a room at a given
 * time, and the frame text that carries them. Pure and deterministic: the same
 * seed, sensor index, location and sequence of timestamps give the same values. */

/* splitmix64: small, fast and good enough for noise and jitter. */
struct sim_rng {
    uint64_t state;
};

/* Seeds one independent stream per (seed, stream) pair; nearby pairs do not
 * give overlapping sequences. */
void sim_rng_seed(struct sim_rng *rng, uint64_t seed, uint64_t stream);
uint64_t sim_rng_next(struct sim_rng *rng);
/* Uniform in [0, 1). */
double sim_rng_uniform(struct sim_rng *rng);

/* Temperatures are kept in [SIM_TEMP_MIN, SIM_TEMP_MAX] degrees Celsius,
 * humidity in [0, 100] %. */
#define SIM_TEMP_MIN (-40.0)
#define SIM_TEMP_MAX 60.0

/* One reading, both values rounded to 2 decimals. */
struct sim_reading {
    double temp; /* degrees Celsius */
    double hum;  /* relative humidity, % */
};

/* One sensor's climate: the room's base temperature and humidity and daily
 * swing, plus slow random drifts (Ornstein-Uhlenbeck, so they wander but stay
 * near the base whatever the frame rate). */
struct sim_values {
    struct sim_rng rng; /* noise and drift for this sensor only */
    double base_temp;   /* room's mean temperature plus this sensor's offset */
    double daily_swing; /* half the difference between 15:00 and 03:00 */
    double base_hum;    /* room's mean relative humidity */
    double temp_drift;  /* current slow deviation of the temperature */
    double hum_drift;   /* current slow deviation of the humidity */
    int64_t last_ts_ms; /* ts of the previous reading; drifts move by the time since */
};

/* Sets up the climate of sensor number sensor_index (0-based) in location.
 * Known rooms (living_room, bedroom, kitchen, office, bathroom, ...) have
 * their own climate; any other name gets one derived from the name. */
void sim_values_init(struct sim_values *v, const char *location, uint64_t seed,
                     uint64_t sensor_index);

/* The reading at ts_ms (Unix milliseconds). The daily cycle follows the UTC
 * hour of ts_ms: warmest at 15:00, coolest at 03:00. Humidity falls as the
 * temperature rises. Calls should come with increasing ts_ms. */
struct sim_reading sim_values_next(struct sim_values *v, int64_t ts_ms);

/* Longest frame sim_frame_format writes, newline included. */
#define SIM_FRAME_MAX 256

/* Writes `{"sensor":"NAME","location":"LOC",` into buf: the part of every frame
 * of a sensor that never changes. name and location must be plain
 * [A-Za-z0-9._:-] text (no escaping is done). Returns its length, or 0 when it
 * does not fit in cap. */
size_t sim_frame_prefix(char *buf, size_t cap, const char *name, const char *location);

/* Writes a whole frame, prefix then `"temp":T,"hum":H,"ts":TS,"seq":SEQ}\n`,
 * with T and H to 2 decimals. Returns its length, or 0 when it does not fit. */
size_t sim_frame_format(char *buf, size_t cap, const char *prefix, size_t prefix_len,
                        struct sim_reading reading, int64_t ts_ms, uint64_t seq);

#endif
