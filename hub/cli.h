#ifndef SENSORHUB_CLI_H
#define SENSORHUB_CLI_H

#include <stdio.h>

#include "config.h"

/* Command-line handling of `sensorhub`: --config FILE, --listen ADDR,
 * --port N, --db PATH, --log-level LEVEL, --help, --version. The file named by
 * --config is read first, whatever the order of the flags, and the other flags
 * override it. */

enum cli_outcome {
    CLI_RUN,   /* cfg is ready: run the hub */
    CLI_EXIT,  /* --help or --version was printed to out: exit 0 */
    CLI_ERROR, /* a message was printed to err: exit 2 */
};

/* Fills cfg (which must be config_init'ed) from argv. */
enum cli_outcome cli_parse(int argc, char **argv, struct config *cfg, FILE *out, FILE *err);

#endif
