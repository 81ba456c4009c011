#ifndef SENSORHUB_SCHEMA_MIGRATIONS_H
#define SENSORHUB_SCHEMA_MIGRATIONS_H

/* The SQL migrations of schema/, compiled in by embed_migrations.cmake.
 * schema_migrations[i] takes a database from user_version i to i + 1. */
struct schema_migration {
    const char *name; /* file name, for messages */
    const char *sql;  /* NUL-terminated SQL text */
};

extern const struct schema_migration schema_migrations[];
extern const int schema_migration_count;

#endif
