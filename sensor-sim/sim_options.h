#ifndef SENSOR_SIM_OPTIONS_H
#define SENSOR_SIM_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Command-line options of sensor-sim, parsed without side effects other than
 * getopt_long's own cursor (reset on every call). */

#define SIM_HOST_MAX 255
#define SIM_MAX_LOCATIONS 64
/* Short enough that "sim-<location>-<n>" stays within the hub's 64 characters. */
#define SIM_LOCATION_MAX 40
#define SIM_MAX_SENSORS 10000
#define SIM_MAX_WINDOW 4096
/* Each in-flight frame keeps two copies of its text (for resending and for
 * the write in progress), so sensors x window is capped to bound memory. */
#define SIM_MAX_IN_FLIGHT (1u << 20)

struct sim_options {
    char host[SIM_HOST_MAX + 1]; /* hub's host name or address */
    uint16_t port;               /* hub's TCP port */
    unsigned sensors;            /* fake sensors, one connection each */
    double rate;            /* frames per second per sensor; 0 = as fast as the window allows */
    bool count_mode;        /* true: run until count frames per sensor are acked */
    double duration_s;      /* !count_mode: seconds of sending */
    uint64_t count;         /* count_mode: frames per sensor */
    unsigned window;        /* frames in flight per connection */
    double drain_timeout_s; /* after sending stops, how long to wait for acks */
    char locations[SIM_MAX_LOCATIONS][SIM_LOCATION_MAX + 1]; /* rooms, round-robin */
    unsigned location_count;                                 /* entries in locations */
    uint64_t seed;                                           /* makes the values reproducible */
    bool json;  /* final summary as one JSON object on stdout */
    bool quiet; /* no progress line */
};

enum sim_options_outcome {
    SIM_OPTIONS_RUN,     /* opts is filled: run */
    SIM_OPTIONS_HELP,    /* --help: print sim_options_usage, exit 0 */
    SIM_OPTIONS_VERSION, /* --version: print the version, exit 0 */
    SIM_OPTIONS_ERROR,   /* err holds one line saying which flag is wrong and why: exit 2 */
};

/* Sets the defaults: 127.0.0.1:8080, 4 sensors, 1 frame/s, 10 s, window 1,
 * living_room,bedroom,kitchen,office, seed 1, drain timeout 5 s. */
void sim_options_init(struct sim_options *opts);

/* Fills opts (defaults first) from argv. */
enum sim_options_outcome sim_options_parse(int argc, char **argv, struct sim_options *opts,
                                           char *err, size_t errlen);

/* Prints the --help text. */
void sim_options_usage(FILE *out);

#endif
