#include "cli.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The flags as given, before any is applied: the config file must be read
 * first whatever its place on the command line. Strings point into argv. */
struct cli_flags {
    const char *config_path; /* --config, or NULL */
    const char **listen;     /* every --listen, in order */
    size_t listen_count;
    const char *db;     /* --db, or NULL */
    bool has_log_level; /* --log-level was given */
    enum log_level log_level;
    bool has_port; /* --port was given */
    uint16_t port;
    bool help;    /* --help */
    bool version; /* --version */
};

enum cli_option {
    OPT_CONFIG = 256,
    OPT_LISTEN,
    OPT_PORT,
    OPT_DB,
    OPT_LOG_LEVEL,
    OPT_HELP,
    OPT_VERSION,
};

static const struct option cli_options[] = {
    {"config", required_argument, NULL, OPT_CONFIG},
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"port", required_argument, NULL, OPT_PORT},
    {"db", required_argument, NULL, OPT_DB},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static void print_usage(FILE *out)
{
    fputs("Usage: sensorhub [--config FILE] [OPTION]...\n"
          "Receives temperature and humidity readings from sensors over TCP and stores them\n"
          "in SQLite.\n"
          "\n"
          "  --config FILE      read settings from FILE (JSON with // or /* */ comments)\n"
          "  --listen ADDR      listen on tcp://HOST:PORT, tcp://[IPv6]:PORT or HOST:PORT;\n"
          "                     repeat for several (default " CONFIG_DEFAULT_LISTEN ")\n"
          "  --port N           use port N on every listen address (0..65535; 0: any free)\n"
          "  --db PATH          the SQLite database file (default " CONFIG_DEFAULT_DB ")\n"
          "  --log-level LEVEL  error, warn, info or debug (default info)\n"
          "  --help             print this help and exit\n"
          "  --version          print the version and exit\n"
          "\n"
          "The file named by --config is read first; the other flags override it, in any\n"
          "order. A setting neither gives keeps its default: config/sensorhub.json lists\n"
          "every setting with its default, and README.md (section Configuration) explains\n"
          "each one, with its range.\n",
          out);
}

/* Records one option's value, checking what can be checked on its own.
 * Returns 0, or -1 after writing a message to err. */
static int record_flag(int option, const char *value, struct cli_flags *flags, FILE *err)
{
    switch (option) {
    case OPT_CONFIG:
        if (flags->config_path != NULL) {
            fprintf(err, "sensorhub: --config: given twice; name one file\n");
            return -1;
        }
        flags->config_path = value;
        return 0;
    case OPT_LISTEN:
        flags->listen[flags->listen_count++] = value;
        return 0;
    case OPT_PORT:
        if (config_parse_port(value, &flags->port) != 0) {
            fprintf(err, "sensorhub: --port: %s is not a port (0..65535)\n", value);
            return -1;
        }
        flags->has_port = true;
        return 0;
    case OPT_DB:
        if (value[0] == '\0') {
            fprintf(err, "sensorhub: --db: the database path must not be empty\n");
            return -1;
        }
        flags->db = value;
        return 0;
    case OPT_LOG_LEVEL:
        if (log_level_parse(value, &flags->log_level) != 0) {
            fprintf(err,
                    "sensorhub: --log-level: %s is not a log level (error, warn, info, "
                    "debug)\n",
                    value);
            return -1;
        }
        flags->has_log_level = true;
        return 0;
    case OPT_HELP:
        flags->help = true;
        return 0;
    case OPT_VERSION:
        flags->version = true;
        return 0;
    default:
        return -1;
    }
}

/* Reads argv into flags with getopt_long. getopt keeps its position in
 * globals, so it is restarted here (optind = 0 makes glibc re-initialise)
 * and told to stay quiet (opterr = 0): messages go to err, not stderr. */
static int read_flags(int argc, char **argv, struct cli_flags *flags, FILE *err)
{
    optind = 0;
    opterr = 0;
    for (;;) {
        /* "+": stop at the first argument that is not an option, rather than
         * reordering argv; ":": report a missing value apart from an unknown flag. */
        int option = getopt_long(argc, argv, "+:", cli_options, NULL);
        if (option == -1)
            break;
        if (option == '?') {
            /* optopt holds a known long option given a value it does not
             * take, a short option's letter, or 0 for an unknown long one. */
            if (optopt >= OPT_CONFIG)
                fprintf(err, "sensorhub: %s takes no value\n", argv[optind - 1]);
            else if (optopt != 0)
                fprintf(err, "sensorhub: unknown option -%c (see sensorhub --help)\n", optopt);
            else
                fprintf(err, "sensorhub: unknown option %s (see sensorhub --help)\n",
                        argv[optind - 1]);
            return -1;
        }
        if (option == ':') {
            fprintf(err, "sensorhub: %s needs a value (see sensorhub --help)\n", argv[optind - 1]);
            return -1;
        }
        if (record_flag(option, optarg, flags, err) != 0)
            return -1;
    }
    if (optind < argc) {
        fprintf(err,
                "sensorhub: unexpected argument \"%s\"; sensorhub takes only options "
                "(see sensorhub --help)\n",
                argv[optind]);
        return -1;
    }
    return 0;
}

/* Replaces the listen list with the --listen endpoints, in order. */
static int apply_listen(const struct cli_flags *flags, struct config *cfg, FILE *err)
{
    for (size_t i = 0; i < flags->listen_count; i++) {
        struct listen_endpoint endpoint;
        char reason[160];
        if (config_parse_endpoint(flags->listen[i], &endpoint, reason, sizeof reason) != 0) {
            fprintf(err, "sensorhub: --listen: %s: %s\n", flags->listen[i], reason);
            return -1;
        }
        if (i == 0) {
            config_set_listen(cfg, &endpoint);
        } else if (config_add_listen(cfg, &endpoint) != 0) {
            fprintf(err, "sensorhub: out of memory\n");
            return -1;
        }
    }
    return 0;
}

/* Applies the flags over cfg: the file first, then every other flag. */
static int apply_flags(const struct cli_flags *flags, struct config *cfg, FILE *err)
{
    char message[512];
    if (flags->config_path != NULL &&
        config_load_file(cfg, flags->config_path, message, sizeof message) != 0) {
        fprintf(err, "%s\n", message);
        return -1;
    }
    if (apply_listen(flags, cfg, err) != 0)
        return -1;
    if (flags->has_port) {
        for (size_t i = 0; i < cfg->listen_count; i++)
            cfg->listen[i].port = flags->port;
    }
    if (flags->db != NULL) {
        char *db = strdup(flags->db);
        if (db == NULL) {
            fprintf(err, "sensorhub: out of memory\n");
            return -1;
        }
        free(cfg->db);
        cfg->db = db;
    }
    if (flags->has_log_level)
        cfg->log_level = flags->log_level;
    const char *name = flags->config_path != NULL ? flags->config_path : "sensorhub";
    if (config_check(cfg, name, message, sizeof message) != 0) {
        fprintf(err, "%s\n", message);
        return -1;
    }
    return 0;
}

enum cli_outcome cli_parse(int argc, char **argv, struct config *cfg, FILE *out, FILE *err)
{
    struct cli_flags flags = {0};
    /* At most one --listen per argument. */
    flags.listen = calloc((size_t)(argc > 0 ? argc : 1), sizeof *flags.listen);
    if (flags.listen == NULL) {
        fprintf(err, "sensorhub: out of memory\n");
        return CLI_ERROR;
    }
    enum cli_outcome outcome = CLI_RUN;
    if (read_flags(argc, argv, &flags, err) != 0) {
        outcome = CLI_ERROR;
    } else if (flags.help) {
        print_usage(out);
        outcome = CLI_EXIT;
    } else if (flags.version) {
        fprintf(out, "sensorhub %s\n", SENSORHUB_VERSION);
        outcome = CLI_EXIT;
    } else if (apply_flags(&flags, cfg, err) != 0) {
        outcome = CLI_ERROR;
    }
    free(flags.listen);
    return outcome;
}
