#include "sim_values.h"

#include <math.h>
#include <string.h>

#define GOLDEN_GAMMA UINT64_C(0x9E3779B97F4A7C15)
#define MS_PER_HOUR 3600000.0
#define MS_PER_DAY INT64_C(86400000)
#define PI 3.14159265358979323846

/* Drift time constants (hours) and typical sizes: the temperature wanders by
 * about half a degree over hours, the humidity by a couple of percent. */
#define TEMP_DRIFT_TAU_H 3.0
#define TEMP_DRIFT_SIGMA 0.6
#define HUM_DRIFT_TAU_H 2.0
#define HUM_DRIFT_SIGMA 2.5
/* Sensor noise, per reading. */
#define TEMP_NOISE_SIGMA 0.05
#define HUM_NOISE_SIGMA 0.3
/* Percent of relative humidity lost per degree of warming: the same air holds
 * the same water, and warmer air could hold about 6% more per degree. */
#define HUM_PER_DEGREE 3.0
/* The afternoon is warmest. */
#define WARMEST_HOUR 15.0

struct room_climate {
    const char *name;
    double temp;        /* mean temperature, degrees Celsius */
    double daily_swing; /* half the 15:00 to 03:00 difference */
    double hum;         /* mean relative humidity, % */
};

static const struct room_climate known_rooms[] = {
    {"living_room", 21.5, 1.5, 45.0}, {"bedroom", 19.0, 1.2, 50.0},  {"kitchen", 22.0, 1.8, 55.0},
    {"office", 21.0, 1.5, 40.0},      {"bathroom", 22.5, 1.0, 65.0}, {"nursery", 20.5, 1.0, 50.0},
    {"hallway", 19.5, 1.0, 45.0},     {"basement", 15.0, 0.5, 65.0}, {"attic", 20.0, 5.0, 40.0},
    {"garage", 12.0, 3.0, 60.0},      {"garden", 12.0, 6.0, 70.0},   {"outdoor", 11.0, 6.0, 72.0},
    {"balcony", 13.0, 5.5, 65.0},
};

/* splitmix64's output function: a strong 64-bit mixer. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

void sim_rng_seed(struct sim_rng *rng, uint64_t seed, uint64_t stream)
{
    /* Mixing the stream before combining keeps the streams of seed s and
     * index i apart from those of any nearby (seed, index) pair. */
    rng->state = mix64(seed + GOLDEN_GAMMA) ^ mix64(mix64(stream) + GOLDEN_GAMMA);
}

uint64_t sim_rng_next(struct sim_rng *rng)
{
    rng->state += GOLDEN_GAMMA;
    return mix64(rng->state);
}

double sim_rng_uniform(struct sim_rng *rng)
{
    return (double)(sim_rng_next(rng) >> 11) * 0x1.0p-53;
}

/* A standard normal deviate, approximated by the sum of four uniforms (Irwin-
 * Hall): cheap, bounded to about 3.5 sigma, and plenty for sensor noise. */
static double rng_normal(struct sim_rng *rng)
{
    double sum =
        sim_rng_uniform(rng) + sim_rng_uniform(rng) + sim_rng_uniform(rng) + sim_rng_uniform(rng);
    return (sum - 2.0) * 1.7320508075688772;
}

/* FNV-1a, to give unknown room names a stable climate of their own. */
static uint64_t name_hash(const char *name)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        h ^= *p;
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

static struct room_climate climate_of(const char *location)
{
    for (size_t i = 0; i < sizeof(known_rooms) / sizeof(known_rooms[0]); i++) {
        if (strcmp(known_rooms[i].name, location) == 0)
            return known_rooms[i];
    }
    uint64_t h = mix64(name_hash(location));
    struct room_climate c = {location, 18.0 + (double)(h % 500) / 100.0,
                             1.0 + (double)((h >> 16) % 100) / 100.0,
                             40.0 + (double)((h >> 32) % 1500) / 100.0};
    return c;
}

void sim_values_init(struct sim_values *v, const char *location, uint64_t seed,
                     uint64_t sensor_index)
{
    struct room_climate room = climate_of(location);
    sim_rng_seed(&v->rng, seed, sensor_index);
    /* Two sensors in one room never read quite the same. */
    v->base_temp = room.temp + (sim_rng_uniform(&v->rng) - 0.5) * 0.8;
    v->base_hum = room.hum + (sim_rng_uniform(&v->rng) - 0.5) * 4.0;
    v->daily_swing = room.daily_swing;
    v->temp_drift = TEMP_DRIFT_SIGMA * rng_normal(&v->rng);
    v->hum_drift = HUM_DRIFT_SIGMA * rng_normal(&v->rng);
    v->last_ts_ms = -1;
}

/* One exact Ornstein-Uhlenbeck step over dt_h hours: the drift decays toward 0
 * and gains fresh noise so that its spread stays sigma at any step size. */
static double drift_step(struct sim_rng *rng, double drift, double dt_h, double tau_h, double sigma)
{
    double decay = exp(-dt_h / tau_h);
    return drift * decay + sigma * sqrt(1.0 - decay * decay) * rng_normal(rng);
}

static double clamp(double x, double lo, double hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

static double round2(double x)
{
    return round(x * 100.0) / 100.0;
}

struct sim_reading sim_values_next(struct sim_values *v, int64_t ts_ms)
{
    if (v->last_ts_ms >= 0 && ts_ms > v->last_ts_ms) {
        double dt_h = (double)(ts_ms - v->last_ts_ms) / MS_PER_HOUR;
        v->temp_drift =
            drift_step(&v->rng, v->temp_drift, dt_h, TEMP_DRIFT_TAU_H, TEMP_DRIFT_SIGMA);
        v->hum_drift = drift_step(&v->rng, v->hum_drift, dt_h, HUM_DRIFT_TAU_H, HUM_DRIFT_SIGMA);
    }
    v->last_ts_ms = ts_ms;

    int64_t ms_of_day = ts_ms % MS_PER_DAY;
    if (ms_of_day < 0)
        ms_of_day += MS_PER_DAY;
    double hour = (double)ms_of_day / MS_PER_HOUR;
    double cycle = cos(2.0 * PI * (hour - WARMEST_HOUR) / 24.0);

    double temp = v->base_temp + v->daily_swing * cycle + v->temp_drift +
                  TEMP_NOISE_SIGMA * rng_normal(&v->rng);
    double hum = v->base_hum - HUM_PER_DEGREE * (temp - v->base_temp) + v->hum_drift +
                 HUM_NOISE_SIGMA * rng_normal(&v->rng);

    struct sim_reading r = {round2(clamp(temp, SIM_TEMP_MIN, SIM_TEMP_MAX)),
                            round2(clamp(hum, 0.0, 100.0))};
    return r;
}

/* Appends text to buf at *len when it fits; returns 0 when it does not. */
static int append(char *buf, size_t cap, size_t *len, const char *text, size_t text_len)
{
    if (cap - *len < text_len)
        return 0;
    memcpy(buf + *len, text, text_len);
    *len += text_len;
    return 1;
}

static int append_str(char *buf, size_t cap, size_t *len, const char *text)
{
    return append(buf, cap, len, text, strlen(text));
}

/* Appends a decimal unsigned integer. Hand-written because frames are formatted
 * on the hot path, millions per second, where snprintf costs more than the rest. */
static int append_uint(char *buf, size_t cap, size_t *len, uint64_t value)
{
    char digits[20];
    size_t n = 0;
    do {
        digits[sizeof(digits) - 1 - n++] = (char)('0' + value % 10);
        value /= 10;
    } while (value != 0);
    return append(buf, cap, len, digits + sizeof(digits) - n, n);
}

/* Appends a value already rounded to 2 decimals, always with 2 decimals. */
static int append_hundredths(char *buf, size_t cap, size_t *len, double value)
{
    long long hundredths = llround(value * 100.0);
    if (hundredths < 0) {
        if (!append(buf, cap, len, "-", 1))
            return 0;
        hundredths = -hundredths;
    }
    char frac[3] = {'.', (char)('0' + hundredths / 10 % 10), (char)('0' + hundredths % 10)};
    return append_uint(buf, cap, len, (uint64_t)(hundredths / 100)) &&
           append(buf, cap, len, frac, sizeof(frac));
}

size_t sim_frame_prefix(char *buf, size_t cap, const char *name, const char *location)
{
    size_t len = 0;
    if (append_str(buf, cap, &len, "{\"sensor\":\"") && append_str(buf, cap, &len, name) &&
        append_str(buf, cap, &len, "\",\"location\":\"") && append_str(buf, cap, &len, location) &&
        append_str(buf, cap, &len, "\","))
        return len;
    return 0;
}

size_t sim_frame_format(char *buf, size_t cap, const char *prefix, size_t prefix_len,
                        struct sim_reading reading, int64_t ts_ms, uint64_t seq)
{
    static const char temp_key[] = "\"temp\":", hum_key[] = ",\"hum\":", ts_key[] = ",\"ts\":",
                      seq_key[] = ",\"seq\":", end[] = "}\n";
    size_t len = 0;
    if (ts_ms < 0)
        return 0;
    if (append(buf, cap, &len, prefix, prefix_len) &&
        append(buf, cap, &len, temp_key, sizeof(temp_key) - 1) &&
        append_hundredths(buf, cap, &len, reading.temp) &&
        append(buf, cap, &len, hum_key, sizeof(hum_key) - 1) &&
        append_hundredths(buf, cap, &len, reading.hum) &&
        append(buf, cap, &len, ts_key, sizeof(ts_key) - 1) &&
        append_uint(buf, cap, &len, (uint64_t)ts_ms) &&
        append(buf, cap, &len, seq_key, sizeof(seq_key) - 1) && append_uint(buf, cap, &len, seq) &&
        append(buf, cap, &len, end, sizeof(end) - 1))
        return len;
    return 0;
}
